//! `CurrentUser`, the extractor every signed-in page takes: the session's user, looked up afresh
//! on each request with its stored session (one query), so a sign-out, a deactivation or a
//! password change elsewhere takes effect at once. Anyone else is sent to the sign-in page.

use actix_session::{Session, SessionExt};
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;

use super::WebError;
use crate::auth::session;
use crate::domain::User;
use crate::state::AppState;
use crate::store::sessions;

/// The signed-in, active user of this request.
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| WebError::Internal("app state missing".into()))?;
            let Some(signed_in) = session::signed_in_user(&session) else {
                return Err(WebError::SignInRequired);
            };
            let (epoch, now) = (signed_in.epoch, state.now());
            let user = state
                .store
                .run(move |conn| {
                    sessions::find_signed_in(conn, &signed_in.user, &signed_in.id, now)
                })
                .await?;
            match user {
                Some(user) if user.active && user.session_epoch == epoch => {
                    session::forget_reveal_marker(&session);
                    Ok(CurrentUser { user, session })
                }
                _ => {
                    session::sign_out(&session);
                    Err(WebError::SignInRequired)
                }
            }
        })
    }
}
