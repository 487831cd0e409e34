//! The list page and the API's list: one page of the tokens a viewer may see, with its counts,
//! and whether any of them is expiring soon (the header's badge).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::super::rows::TokenRow;
use super::super::schema::tokens;
use super::super::status_sql::word_sql;
use super::super::{AnyConnection, MultiBackend, StoreResult};
use super::{
    COUNT_AHEAD, Count, count_live, count_up_to, find_policy, lower, reaches_sql, to_records,
    visible,
};
use crate::domain::policy::TokenPolicy;
use crate::domain::status::{StatusFilter, StatusWord};
use crate::domain::tokens::{TokenFilter, TokenRecord, Visibility};

/// `%` and `_` typed in a search are literal characters, not wildcards.
fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// More name matches than this and the search is not selective: walking the account's index in
/// order finds a page of them sooner than fetching them all by id would.
const NAME_CANDIDATES_MAX: usize = 2000;

#[derive(QueryableByName)]
struct NameCandidate {
    #[diesel(sql_type = Text)]
    token_id: String,
}

/// On SQLite, the ids of the tokens whose name may hold `needle`, from the FTS5 trigram table:
/// a superset of the LIKE's answer (the table holds the same lower() of each name, and folds
/// case at least as widely), so the LIKE still decides. `None` where the table cannot narrow
/// the search: Postgres (its trigram index serves the LIKE itself), a needle of fewer than
/// three characters, or one so common that the ordered walk is faster.
fn name_candidates(conn: &mut AnyConnection, needle: &str) -> StoreResult<Option<Vec<String>>> {
    let AnyConnection::Sqlite(conn) = conn else {
        return Ok(None);
    };
    let needle = needle.to_lowercase();
    if needle.chars().count() < 3 {
        return Ok(None);
    }
    // One FTS5 string: inside double quotes every character is literal but `"`, written twice.
    let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
    let found: Vec<NameCandidate> = diesel::sql_query(
        "SELECT token_id FROM token_name_search WHERE token_name_search MATCH ? LIMIT ?",
    )
    .bind::<Text, _>(phrase)
    .bind::<BigInt, _>(NAME_CANDIDATES_MAX as i64 + 1)
    .load(conn)?;
    Ok((found.len() <= NAME_CANDIDATES_MAX)
        .then(|| found.into_iter().map(|c| c.token_id).collect()))
}

/// The tokens the viewer sees among `ids`. The account and issuer are compared as
/// `column || ''`, the same comparison that no index serves: otherwise SQLite walks the
/// account's index in list order, testing every token against the few candidates, instead of
/// looking those up by id and sorting them.
fn visible_among(
    visibility: &Visibility,
    ids: &[String],
) -> tokens::BoxedQuery<'static, MultiBackend> {
    let query = tokens::table
        .filter(tokens::id.eq_any(ids.to_vec()))
        .filter(
            tokens::account_id
                .concat("")
                .eq(visibility.account().as_str().to_owned()),
        )
        .into_boxed();
    match visibility {
        Visibility::Account(_) => query,
        Visibility::Issuer(_, issuer) => {
            query.filter(tokens::issuer_id.concat("").eq(issuer.as_str().to_owned()))
        }
    }
}

fn filtered(
    name_ids: Option<&[String]>,
    visibility: &Visibility,
    filter: &TokenFilter,
    now: NaiveDateTime,
) -> tokens::BoxedQuery<'static, MultiBackend> {
    let mut query = match name_ids {
        Some(ids) => visible_among(visibility, ids),
        None => visible(visibility),
    };
    if visibility.sees_whole_account()
        && let Some(issuer) = &filter.issuer
    {
        let issuer = issuer.as_str().to_owned();
        query = match name_ids {
            Some(_) => query.filter(tokens::issuer_id.concat("").eq(issuer)),
            None => query.filter(tokens::issuer_id.eq(issuer)),
        };
    }
    if let Some(role) = filter.role {
        query = query.filter(tokens::role.eq(role.as_str()));
    }
    if let StatusFilter::Only(status) = filter.status {
        query = query.filter(word_sql(StatusWord::Is(status), now));
    }
    if let Some(needle) = &filter.name_contains {
        query = query.filter(lower(tokens::name).like(like_pattern(needle)).escape('\\'));
    }
    if let Some(resource) = &filter.reaches {
        query = query.filter(reaches_sql(resource));
    }
    query
}

pub struct TokenPage {
    pub tokens: Vec<TokenRecord>,
    /// Tokens matching the filters, over all pages, counted up to `COUNT_AHEAD` past this page.
    pub matching: Count,
    /// Live tokens in the account, for "12 of 50 tokens", counted up to `COUNT_AHEAD`.
    pub live_in_account: Count,
    pub policy: TokenPolicy,
}

pub fn list_tokens(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    filter: &TokenFilter,
    page: i64,
    per_page: i64,
    now: NaiveDateTime,
) -> StoreResult<TokenPage> {
    // Any page number parses; one past i64's range of rows simply finds nothing.
    let offset = (page.max(1) - 1).saturating_mul(per_page);
    // One walk of the index (account or issuer, created_at, id) gives both the page's ids and
    // the count ahead of it: the ids from here to COUNT_AHEAD past the page's start. Only the
    // page's own rows are read after that, so a deep page skips index entries, not rows.
    // (A subselect does not pass through the two-backend connection; two queries do.)
    let ahead = COUNT_AHEAD.max(per_page);
    let name_ids = match &filter.name_contains {
        Some(needle) => name_candidates(conn, needle)?,
        None => None,
    };
    let name_ids = name_ids.as_deref();
    let mut ids: Vec<String> = filtered(name_ids, visibility, filter, now)
        .select(tokens::id)
        .order((tokens::created_at.desc(), tokens::id.desc()))
        .limit(ahead + 1)
        .offset(offset)
        .load(conn)?;
    let found = ids.len() as i64;
    let matching = if found > ahead {
        Count {
            value: offset.saturating_add(ahead),
            exact: false,
        }
    } else if found > 0 || offset == 0 {
        Count {
            value: offset + found,
            exact: true,
        }
    } else {
        // A page past the end (a stale link): how many there are, for the last page.
        count_up_to(conn, || filtered(name_ids, visibility, filter, now), offset)?
    };
    ids.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
    let page_ids = ids;
    let rows = tokens::table
        .filter(tokens::id.eq_any(page_ids))
        .select(TokenRow::as_select())
        .order((tokens::created_at.desc(), tokens::id.desc()))
        .load(conn)?;
    let tokens = to_records(conn, rows)?;
    let policy = find_policy(conn, visibility.account())?;
    // Exact up to a thousand, so "3 of 1 tokens" still says how far over a small limit it is;
    // a huge account reads "1000+ of 10000 tokens".
    let live_in_account = count_live(conn, visibility.account(), now, COUNT_AHEAD)?;
    Ok(TokenPage {
        tokens,
        matching,
        live_in_account,
        policy,
    })
}

/// True when a token the viewer can see is expiring soon (the "!" badge): the same rule as the
/// rows' "expires in N days" and the expiry notices.
pub fn any_expiring_soon(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let query = visible(visibility)
        .filter(word_sql(StatusWord::ExpiringSoon, now))
        .select(tokens::id)
        .limit(1);
    Ok(query.first::<String>(conn).optional()?.is_some())
}
