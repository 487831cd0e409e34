//! The Personal Tokens list: filters in the query string, newest first, paged.

use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use askama::Template;
use serde::Deserialize;

use super::CurrentUser;
use super::WebError;
use super::format::TokenView;
use super::forms;
use super::layout::Layout;
use crate::domain::lifecycle::{TOKENS_PER_PAGE, TokenFilter, Visibility, name_search};
use crate::domain::status::StatusFilter;
use crate::domain::{Role, UserId, time};
use crate::state::AppState;
use crate::store::tokens;

/// The query string as sent; every field is optional and parsed leniently (see `parse`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    issuer: String,
    role: String,
    status: String,
    q: String,
    page: String,
}

struct ParsedQuery {
    filter: TokenFilter,
    page: i64,
    /// Values that were not understood and were ignored, said on the page.
    notices: Vec<String>,
}

impl ListQuery {
    fn parse(&self, sees_issuers: bool) -> ParsedQuery {
        let mut notices = Vec::new();
        let mut filter = TokenFilter::default();
        if sees_issuers && !self.issuer.is_empty() && self.issuer != "all" {
            filter.issuer = UserId::parse(&self.issuer);
            if filter.issuer.is_none() {
                notices.push("The “issued by” filter was not understood and is ignored.".into());
            }
        }
        if !self.role.is_empty() && self.role != "all" {
            filter.role = Role::parse(&self.role);
            if filter.role.is_none() {
                notices.push(format!("Unknown role filter “{}” ignored.", self.role));
            }
        }
        filter.status = StatusFilter::parse(&self.status).unwrap_or_else(|| {
            notices.push(format!("Unknown status filter “{}” ignored.", self.status));
            StatusFilter::All
        });
        filter.name_contains = name_search(&self.q);
        let page = if self.page.is_empty() {
            1
        } else {
            match self.page.parse::<i64>() {
                Ok(page) if page >= 1 => page,
                _ => {
                    notices.push(format!(
                        "Page “{}” does not exist; showing page 1.",
                        self.page
                    ));
                    1
                }
            }
        };
        ParsedQuery {
            filter,
            page,
            notices,
        }
    }
}

fn query_string(filter: &TokenFilter, page: i64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(issuer) = &filter.issuer {
        query.append_pair("issuer", issuer.as_str());
    }
    if let Some(role) = filter.role {
        query.append_pair("role", role.as_str());
    }
    if filter.status != StatusFilter::All {
        query.append_pair("status", filter.status.as_str());
    }
    if let Some(q) = &filter.name_contains {
        query.append_pair("q", q);
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/tokens".into()
    } else {
        format!("/tokens?{query}")
    }
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "tokens/list.html")]
struct ListPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    notices: Vec<String>,
    usage: String,
    filtering: bool,
    issuers: Vec<Choice>,
    roles: Vec<Choice>,
    statuses: Vec<Choice>,
    q: String,
    page: i64,
    pages: i64,
    matching: i64,
    previous_href: Option<String>,
    next_href: Option<String>,
}

pub async fn list_tokens(
    state: Data<AppState>,
    current: CurrentUser,
    query: Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let visibility = Visibility::of(&current.user);
    let sees_issuers = visibility.sees_whole_account();
    let ParsedQuery {
        filter,
        page,
        notices,
    } = query.parse(sees_issuers);

    let now = time::now();
    let (listing, issuers, badge) = {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        state
            .store
            .run(move |conn| {
                let mut listing =
                    tokens::list_tokens(conn, &visibility, &filter, page, TOKENS_PER_PAGE, now)?;
                let pages = (listing.matching + TOKENS_PER_PAGE - 1) / TOKENS_PER_PAGE;
                // A page past the end (a stale link after deletes) shows the last page instead.
                if listing.tokens.is_empty() && page > pages && pages > 0 {
                    listing = tokens::list_tokens(
                        conn,
                        &visibility,
                        &filter,
                        pages,
                        TOKENS_PER_PAGE,
                        now,
                    )?;
                }
                let issuers = if sees_issuers {
                    tokens::list_issuers(conn, visibility.account())?
                } else {
                    Vec::new()
                };
                let badge = tokens::any_expiring_soon(conn, &visibility, now)?;
                Ok((listing, issuers, badge))
            })
            .await?
    };

    let pages = ((listing.matching + TOKENS_PER_PAGE - 1) / TOKENS_PER_PAGE).max(1);
    let page = page.min(pages);
    let filtering = filter != TokenFilter::default();
    let status_choices = ["all", "active", "expired", "deleted"];
    let page_view = ListPage {
        layout: Layout::signed_in(&current, "Personal Tokens").with_badge(badge),
        tokens: listing
            .tokens
            .iter()
            .map(|t| TokenView::new(t, now))
            .collect(),
        notices,
        usage: format!(
            "{} of {} tokens",
            listing.live_in_account, listing.policy.max_tokens
        ),
        filtering,
        issuers: issuers
            .into_iter()
            .map(|(id, name)| Choice {
                selected: filter.issuer.as_ref() == Some(&id),
                value: id.to_string(),
                label: name,
            })
            .collect(),
        roles: Role::ALL
            .into_iter()
            .map(|role| Choice {
                value: role.as_str().into(),
                label: role.label().into(),
                selected: filter.role == Some(role),
            })
            .collect(),
        statuses: status_choices
            .into_iter()
            .map(|status| Choice {
                value: status.into(),
                label: match status {
                    "all" => "All".into(),
                    other => {
                        let mut label = other.to_owned();
                        label[..1].make_ascii_uppercase();
                        label
                    }
                },
                selected: filter.status.as_str() == status,
            })
            .collect(),
        q: filter.name_contains.clone().unwrap_or_default(),
        page,
        pages,
        matching: listing.matching,
        previous_href: (page > 1).then(|| query_string(&filter, page - 1)),
        next_href: (page < pages).then(|| query_string(&filter, page + 1)),
    };
    forms::ok(&page_view)
}
