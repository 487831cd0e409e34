//! How dates read on the pages. All times are UTC and say so.

use chrono::NaiveDateTime;

pub fn date(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d").to_string()
}

pub fn datetime(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn iso(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
