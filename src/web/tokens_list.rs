//! The Personal Tokens page. For now it says who is signed in; the token list comes next.

use actix_web::HttpResponse;
use askama::Template;

use super::WebError;
use super::forms;
use super::layout::Layout;
use crate::auth::session::CurrentUser;

#[derive(Template)]
#[template(path = "tokens/list.html")]
struct TokensPage {
    layout: Layout,
}

pub async fn list_tokens(current: CurrentUser) -> Result<HttpResponse, WebError> {
    forms::ok(&TokensPage {
        layout: Layout::signed_in(&current, "Personal Tokens"),
    })
}
