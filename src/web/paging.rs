//! Paged lists (tokens, audit log): reading `page` from the query string and the pager under a
//! table, whose links keep the filters.

/// The page asked for. Anything that is not a page number shows page 1 and says so in `notices`.
pub fn parse_page(raw: &str, notices: &mut Vec<String>) -> i64 {
    if raw.is_empty() {
        return 1;
    }
    match raw.parse::<i64>() {
        Ok(page) if page >= 1 => page,
        _ => {
            notices.push(format!("Page “{raw}” does not exist; showing page 1."));
            1
        }
    }
}

/// Pages needed for `matching` rows, at least one.
pub fn page_count(matching: i64, per_page: i64) -> i64 {
    ((matching + per_page - 1) / per_page).max(1)
}

/// `path` with the query pairs that are set, and `page` when it is not the first.
pub fn href(path: &str, pairs: &[(&str, Option<&str>)], page: i64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// A count as people read it: "12", or "1000+" when counting stopped there.
pub fn at_least(count: crate::store::tokens::Count) -> String {
    if count.exact {
        count.value.to_string()
    } else {
        format!("{}+", count.value)
    }
}

/// The pager under a table (templates/partials/pager.html).
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub matching: i64,
    /// Counting stopped at `matching`: there are more rows, and more pages, than it says.
    pub more: bool,
    /// "token"/"tokens", "event"/"events".
    pub noun: &'static str,
    pub previous_href: Option<String>,
    pub next_href: Option<String>,
}

impl Pager {
    pub fn new(
        matching: i64,
        page: i64,
        per_page: i64,
        nouns: (&'static str, &'static str),
        link: impl Fn(i64) -> String,
    ) -> Self {
        Self::counted(
            crate::store::tokens::Count {
                value: matching,
                exact: true,
            },
            page,
            per_page,
            nouns,
            link,
        )
    }

    /// A pager over a count that may have stopped early ("1000+ tokens · page 1 of 50+").
    pub fn counted(
        count: crate::store::tokens::Count,
        page: i64,
        per_page: i64,
        nouns: (&'static str, &'static str),
        link: impl Fn(i64) -> String,
    ) -> Self {
        let matching = count.value;
        let pages = page_count(matching, per_page);
        let page = page.min(pages);
        let more = !count.exact;
        Self {
            page,
            pages,
            matching,
            more,
            noun: if matching == 1 && !more {
                nouns.0
            } else {
                nouns.1
            },
            previous_href: (page > 1).then(|| link(page - 1)),
            next_href: (page < pages || more).then(|| link(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_drop_page_one() {
        let pairs = [("actor", Some("a b")), ("action", None)];
        assert_eq!(href("/audit", &pairs, 1), "/audit?actor=a+b");
        assert_eq!(href("/audit", &pairs, 3), "/audit?actor=a+b&page=3");
        assert_eq!(href("/audit", &[], 1), "/audit");
    }

    #[test]
    fn odd_page_numbers_fall_back_to_the_first() {
        let mut notices = Vec::new();
        assert_eq!(parse_page("", &mut notices), 1);
        assert_eq!(parse_page("4", &mut notices), 4);
        assert!(notices.is_empty());
        assert_eq!(parse_page("0", &mut notices), 1);
        assert_eq!(parse_page("99999999999999999999", &mut notices), 1);
        assert_eq!(notices.len(), 2);
    }

    #[test]
    fn the_pager_stops_at_both_ends() {
        let pager = Pager::new(45, 3, 20, ("token", "tokens"), |p| p.to_string());
        assert_eq!((pager.page, pager.pages), (3, 3));
        assert_eq!(pager.previous_href.as_deref(), Some("2"));
        assert_eq!(pager.next_href, None);
        let one = Pager::new(1, 1, 20, ("token", "tokens"), |p| p.to_string());
        assert_eq!(
            (one.noun, one.previous_href, one.next_href),
            ("token", None, None)
        );
    }
}
