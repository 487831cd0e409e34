//! The Personal Tokens list: filters in the query string, newest first, paged.

use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use askama::Template;
use serde::Deserialize;

use super::CurrentUser;
use super::WebError;
use super::forms::{self, Choice};
use super::layout::{self, Layout};
use super::paging::{self, Pager};
use super::token_view::TokenView;
use crate::domain::scopes::{BUILT_IN, Resource};
use crate::domain::status::StatusFilter;
use crate::domain::tokens::{TOKENS_PER_PAGE, TokenFilter, Visibility, name_search};
use crate::domain::{Role, UserId};
use crate::state::AppState;
use crate::store::{services, tokens};

/// The query string as sent; every field is optional and parsed leniently (see `parse`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    issuer: String,
    role: String,
    status: String,
    q: String,
    scope: String,
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
        if !self.scope.is_empty() && self.scope != "all" {
            filter.reaches = Resource::parse(&self.scope);
            if filter.reaches.is_none() {
                notices.push("The “reaches” filter was not understood and is ignored.".into());
            }
        }
        filter.name_contains = name_search(&self.q);
        let page = paging::parse_page(&self.page, &mut notices);
        ParsedQuery {
            filter,
            page,
            notices,
        }
    }
}

fn query_string(filter: &TokenFilter, page: i64) -> String {
    let status = (filter.status != StatusFilter::All).then(|| filter.status.as_str());
    paging::href(
        "/tokens",
        &[
            ("issuer", filter.issuer.as_ref().map(|id| id.as_str())),
            ("role", filter.role.map(Role::as_str)),
            ("status", status),
            ("q", filter.name_contains.as_deref()),
            ("scope", filter.reaches.as_ref().map(Resource::as_str)),
        ],
        page,
    )
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
    resources: Vec<Choice>,
    q: String,
    pager: Pager,
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

    let now = state.now();
    let (listing, issuers, badges, services) = {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        let user = current.user.clone();
        state
            .store
            .run(move |conn| {
                let mut listing =
                    tokens::list_tokens(conn, &visibility, &filter, page, TOKENS_PER_PAGE, now)?;
                let pages = paging::page_count(listing.matching.value, TOKENS_PER_PAGE);
                // A page past the end (a stale link after deletes) shows the last page instead.
                if listing.tokens.is_empty() && page > pages {
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
                let badges = layout::badges(conn, &user, now)?;
                let services = services::names(conn, visibility.account())?;
                Ok((listing, issuers, badges, services))
            })
            .await?
    };

    let filtering = filter != TokenFilter::default();
    let status_choices = ["all", "active", "suspended", "expired", "deleted"];
    let page_view = ListPage {
        layout: Layout::signed_in(&current, "Personal Tokens").with_badges(badges),
        tokens: listing
            .tokens
            .iter()
            .map(|t| TokenView::new(t, now))
            .collect(),
        notices,
        usage: format!(
            "{} of {} tokens",
            paging::at_least(listing.live_in_account),
            listing.policy.max_tokens
        ),
        filtering,
        issuers: Choice::people(issuers, filter.issuer.as_ref()),
        roles: Choice::roles(Role::ALL.into_iter(), filter.role),
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
        resources: BUILT_IN
            .iter()
            .filter_map(|name| Resource::parse(name))
            .chain(services)
            .map(|resource| Choice {
                selected: filter.reaches.as_ref() == Some(&resource),
                value: resource.to_string(),
                label: resource.to_string(),
            })
            .collect(),
        q: filter.name_contains.clone().unwrap_or_default(),
        pager: Pager::counted(
            listing.matching,
            page,
            TOKENS_PER_PAGE,
            ("token", "tokens"),
            |page| query_string(&filter, page),
        ),
    };
    forms::ok(&page_view)
}
