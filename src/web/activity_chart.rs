//! The activity chart of a token's page: requests per day over the last 90 days, as bar
//! geometry for an inline SVG drawn by the template (no script, no chart library), and the text
//! that says the same for people who cannot see it.

use chrono::{NaiveDate, TimeDelta};

pub const DAYS: i64 = 90;
/// The SVG's user units: one 8-unit slot per day, a 6-unit bar in each.
pub const WIDTH: i64 = DAYS * 8;
pub const HEIGHT: i64 = 100;

pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    /// "2026-11-29: 42 requests", the bar's tooltip and accessible name.
    pub title: String,
}

pub struct ActivityChart {
    pub bars: Vec<Bar>,
    /// "1,204 requests in the last 90 days (312 in the last 30), last on 2026-11-29".
    pub summary: String,
    /// Days with requests, newest first, for the table under the chart.
    pub days: Vec<(String, String)>,
}

/// Thousands separated by commas, as the summary reads.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn requests(n: i64) -> String {
    if n == 1 {
        "1 request".to_owned()
    } else {
        format!("{} requests", grouped(n))
    }
}

/// The chart for the 90 days ending `today`, from stored (day, requests) pairs.
pub fn chart(counts: &[(NaiveDate, i64)], today: NaiveDate) -> ActivityChart {
    let first = today - TimeDelta::days(DAYS - 1);
    let on = |day: NaiveDate| {
        counts
            .iter()
            .filter(|(d, _)| *d == day)
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let per_day: Vec<(NaiveDate, i64)> = (0..DAYS)
        .map(|i| first + TimeDelta::days(i))
        .map(|day| (day, on(day)))
        .collect();
    let max = per_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars = per_day
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(i, (day, n))| {
            // At least 2 units, so a single request is still visible.
            let height = ((n * HEIGHT) / max).max(2);
            Bar {
                x: i as i64 * 8 + 1,
                y: HEIGHT - height,
                height,
                title: format!("{day}: {}", requests(*n)),
            }
        })
        .collect();
    let total: i64 = per_day.iter().map(|(_, n)| n).sum();
    let last_30: i64 = per_day
        .iter()
        .skip((DAYS - 30) as usize)
        .map(|(_, n)| n)
        .sum();
    let last = per_day
        .iter()
        .rev()
        .find(|(_, n)| *n > 0)
        .map(|(day, _)| *day);
    let summary = match last {
        None => "No requests in the last 90 days.".to_owned(),
        Some(last) => format!(
            "{} in the last 90 days ({} in the last 30), last on {last}.",
            requests(total),
            grouped(last_30)
        ),
    };
    ActivityChart {
        bars,
        summary,
        days: per_day
            .iter()
            .rev()
            .filter(|(_, n)| *n > 0)
            .map(|(day, n)| (day.to_string(), grouped(*n)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn the_summary_adds_up_and_names_the_last_day() {
        let today = day(30);
        let counts = [(day(29), 1_000), (day(10), 200), (day(1), 4)];
        let chart = chart(&counts, today);
        assert_eq!(
            chart.summary,
            "1,204 requests in the last 90 days (1,204 in the last 30), last on 2026-11-29."
        );
        assert_eq!(chart.bars.len(), 3);
        let tallest = chart.bars.iter().max_by_key(|b| b.height).unwrap();
        assert_eq!((tallest.height, tallest.y), (HEIGHT, 0));
        assert_eq!(tallest.title, "2026-11-29: 1,000 requests");
        assert_eq!(chart.days[0], ("2026-11-29".to_owned(), "1,000".to_owned()));
    }

    #[test]
    fn older_days_fall_outside_and_a_quiet_token_says_so() {
        let chart = chart(&[(day(30) - TimeDelta::days(90), 5)], day(30));
        assert_eq!(chart.summary, "No requests in the last 90 days.");
        assert!(chart.bars.is_empty());
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(12), "12");
    }
}
