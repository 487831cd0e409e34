//! The Personal Tokens pages end to end over HTTP: create and the one-time reveal, the list with
//! its filters and pager, visibility between users and accounts, delete, regenerate, bad input,
//! CSRF, and the account limit under concurrent creates.

use tokio::task::JoinSet;

use crate::helpers::*;
use crate::token_helpers::*;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| escaped(name)).collect()
}

/// `tok-25` … `tok-01` style names, newest (highest) first.
fn tok_names(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.rev().map(|i| format!("tok-{i:02}")).collect()
}

/// Creates `tok-01` … `tok-NN` (read-only, 30 days), oldest first, without opening the reveals.
async fn create_many(browser: &Browser, count: u32) {
    let csrf = csrf_token_in(&browser.get_html("/tokens/new").await);
    for i in 1..=count {
        let name = format!("tok-{i:02}");
        let response = post_new_token_with(
            browser,
            &csrf,
            &[("name", &name), ("expires_in", "30"), ("role", "read_only")],
        )
        .await;
        assert_eq!(response.status().as_u16(), 303, "{name} created");
    }
}

both_backends! {
    async fn a_new_token_is_revealed_once_then_listed_masked(app) {
        app.setup_admin().await;

        let response = post_new_token(&app, &[
            ("name", "ci deploy"),
            ("description", "Deploys from CI"),
            ("expires_in", "30"),
            ("expires_at", ""),
            ("role", "engineer"),
        ]).await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(location(&response), "/tokens/reveal");

        let reveal = app.get("/tokens/reveal").await;
        assert_eq!(reveal.status().as_u16(), 200);
        assert_eq!(header(&reveal, "cache-control"), "no-store");
        let page = reveal.text().await.unwrap();
        let token = revealed_token(&page).expect("the token is shown");
        assert!(is_token_format(&token), "{token:?} matches ptk_[A-Za-z0-9]{{40}}");
        assert!(page.contains(&format!("value=\"{token}\" readonly")), "in a read-only field");
        assert!(page.contains("Token “ci deploy”"));
        assert!(page.contains("It will not be shown again"));
        assert!(page.contains("OK, I've copied it"));

        let again = app.get("/tokens/reveal").await;
        assert_eq!(again.status().as_u16(), 200, "a reload is not an error");
        assert_eq!(header(&again, "cache-control"), "no-store");
        let again = again.text().await.unwrap();
        assert!(again.contains("This token can no longer be displayed"));
        assert!(!again.contains(&token), "the token is shown once only");

        let ok = app
            .client
            .post(app.url("/tokens/reveal"))
            .form(&[("csrf_token", csrf_token_in(&page))])
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status().as_u16(), 303);
        assert_eq!(location(&ok), "/tokens");

        let list = tokens_html(&app, "").await;
        assert!(!list.contains(&token), "the list never shows the clear token");
        let row = row(&list, "ci deploy");
        assert!(row.contains(&format!("<code>{}</code>", masked(&token))), "{row}");
        assert!(row.contains("Deploys from CI"));
        assert!(row.contains("<td data-label=\"Last used\">Never</td>"), "never used: {row}");
        assert!(row.contains("<td data-label=\"Role\">Engineer</td>"));
        assert!(row.contains("<td data-label=\"Issued by\">Ada Admin</td>"), "issued by");
        assert_eq!(row_status(row), "Active");
        assert!(row.contains(&date_in(30)), "expires in 30 days: {row}");
        assert!(row.contains("aria-label=\"Delete token ci deploy\""));
        assert_eq!(usage(&list), "1 of 50 tokens");
        assert!(flashes(&list).iter().any(|f| f.contains("Your new token is ready to use")));
    }

    async fn an_engineer_cannot_create_a_token_above_their_role(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;

        let form = erin.get_html("/tokens/new").await;
        assert!(!form.contains("<option value=\"admin\""), "no admin choice for an engineer");
        assert!(form.contains("<option value=\"engineer\""));
        assert!(form.contains("<option value=\"read_only\""));
        assert!(app.get_html("/tokens/new").await.contains("<option value=\"admin\""), "admins have it");

        let response = post_new_token(&erin, &[
            ("name", "sneaky"), ("expires_in", "30"), ("role", "admin"),
        ]).await;
        assert_eq!(response.status().as_u16(), 400);
        let page = response.text().await.unwrap();
        assert_eq!(
            field_error(&page, "role").as_deref(),
            Some("A token cannot have a higher role than yours (Engineer).")
        );
        assert!(page.contains("value=\"sneaky\""), "the name is kept");

        let list = tokens_html(&erin, "").await;
        assert!(list.contains("No personal tokens yet"));
        assert_eq!(usage(&list), "0 of 50 tokens");
        assert!(rows_named(&tokens_html(&app, "").await, "sneaky").is_empty());

        create_token(&erin, "mine", "30", "engineer").await;
        assert!(row(&tokens_html(&erin, "").await, "mine").contains("<td data-label=\"Role\">Engineer</td>"));
    }

    async fn engineers_see_their_own_tokens_and_admins_the_whole_account(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        create_token(&app, "admin-token", "30", "admin").await;
        create_token(&erin, "erin-token", "30", "read_only").await;

        let erins = tokens_html(&erin, "").await;
        assert_eq!(row_names(&erins), names(&["erin-token"]));
        assert!(!erins.contains("admin-token"));
        assert!(!erins.contains("id=\"filter-issuer\""), "no “Issued by” filter for engineers");

        let admins = tokens_html(&app, "").await;
        assert_eq!(row_names(&admins), names(&["erin-token", "admin-token"]));
        assert!(row(&admins, "erin-token").contains("<td data-label=\"Issued by\">Erin Engineer</td>"));
        assert!(row(&admins, "admin-token").contains("<td data-label=\"Issued by\">Ada Admin</td>"));
        assert!(admins.contains("<label for=\"filter-issuer\">Issued by</label>"));
        let erin_id = option_value(&admins, "Erin Engineer").expect("Erin in the “Issued by” filter");
        let admin_id = option_value(&admins, "Ada Admin").expect("Ada in the “Issued by” filter");

        let only_erin = tokens_html(&app, &format!("?issuer={erin_id}")).await;
        assert_eq!(row_names(&only_erin), names(&["erin-token"]));
        assert!(only_erin.contains(&format!("<option value=\"{erin_id}\" selected>")));
        let only_admin = tokens_html(&app, &format!("?issuer={admin_id}")).await;
        assert_eq!(row_names(&only_admin), names(&["admin-token"]));

        let forged = tokens_html(&erin, &format!("?issuer={admin_id}")).await;
        assert_eq!(row_names(&forged), names(&["erin-token"]), "an engineer cannot widen the view");
    }

    async fn an_admin_deletes_and_regenerates_an_engineers_tokens(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let first = create_token(&erin, "erin-ci", "30", "engineer").await;
        create_token(&erin, "erin-old", "30", "read_only").await;
        let admins = tokens_html(&app, "").await;
        let (ci, old) = (row_id(row(&admins, "erin-ci")), row_id(row(&admins, "erin-old")));

        let deleted = post_on(&app, &format!("/tokens/{old}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(deleted.status().as_u16(), 303);
        assert!(flashes(&tokens_html(&app, "").await).contains(&"Token erin-old deleted.".to_owned()));
        let regenerated = post_on(&app, &format!("/tokens/{ci}/regenerate"), &[]).await;
        assert_eq!(location(&regenerated), "/tokens/reveal");
        let second = reveal(&app).await;
        assert_ne!(second, first);

        let erins = tokens_html(&erin, "").await;
        assert_eq!(row_status(row(&erins, "erin-old")), "Deleted");
        let ci_rows = rows_named(&erins, "erin-ci");
        assert_eq!(ci_rows.len(), 2, "the new token is still Erin's");
        assert_eq!(row_status(ci_rows[0]), "Active");
        assert!(ci_rows[0].contains(&masked(&second)));
        assert!(ci_rows[0].contains("<td data-label=\"Issued by\">Erin Engineer</td>"), "issued by Erin still");
        assert!(ci_rows[0].contains("<td data-label=\"Role\">Engineer</td>"));
        assert_eq!(row_status(ci_rows[1]), "Deleted");
        assert!(revealed_token(&erin.get_html("/tokens/reveal").await).is_none(), "revealed to the admin only");
    }

    async fn other_users_and_other_accounts_tokens_are_404_on_every_route(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let admin_token = create_token(&app, "admin-token", "30", "admin").await;
        let admin_id = row_id(row(&tokens_html(&app, "").await, "admin-token"));

        let hank = add_user_and_sign_in(&app, "Globex", "hank", "Hank Globex", "admin").await;
        let globex_token = create_token(&hank, "globex-token", "30", "admin").await;
        let globex_id = row_id(row(&tokens_html(&hank, "").await, "globex-token"));
        assert!(!tokens_html(&app, "").await.contains("globex-token"), "accounts are apart");
        assert!(!tokens_html(&hank, "").await.contains("admin-token"));

        let unknown = uuid::Uuid::new_v4().to_string();
        let attempts: [(&Browser, &str, &str); 6] = [
            (&erin, admin_id.as_str(), "admin-token"),
            (&erin, globex_id.as_str(), "globex-token"),
            (&app.browser, globex_id.as_str(), "globex-token"),
            (&app.browser, unknown.as_str(), ""),
            (&app.browser, "not-a-uuid", ""),
            (&app.browser, "1%20OR%201=1", ""),
        ];
        for (browser, id, name) in attempts {
            for action in ["delete", "regenerate"] {
                let path = format!("/tokens/{id}/{action}");
                let get = browser.get(&path).await;
                assert_eq!(get.status().as_u16(), 404, "GET {path}");
                let body = get.text().await.unwrap();
                assert!(body.contains("Page not found"));
                assert!(name.is_empty() || !body.contains(name), "a 404 leaks nothing: {path}");
            }
            for confirm in ["delete", "nope"] {
                let path = format!("/tokens/{id}/delete");
                let post = post_on(browser, &path, &[("confirm", confirm)]).await;
                assert_eq!(post.status().as_u16(), 404, "POST {path} confirm={confirm}");
                assert!(name.is_empty() || !post.text().await.unwrap().contains(name));
            }
            let path = format!("/tokens/{id}/regenerate");
            let post = post_on(browser, &path, &[]).await;
            assert_eq!(post.status().as_u16(), 404, "POST {path}");
            assert!(post.headers().get("location").is_none(), "no reveal follows");
        }
        assert!(revealed_token(&erin.get_html("/tokens/reveal").await).is_none(), "nothing was regenerated for erin");
        assert!(revealed_token(&app.get_html("/tokens/reveal").await).is_none());

        let admins = tokens_html(&app, "").await;
        let kept = row(&admins, "admin-token");
        assert_eq!(row_status(kept), "Active");
        assert!(kept.contains(&masked(&admin_token)), "same secret, not regenerated");
        assert_eq!(usage(&admins), "1 of 50 tokens");
        let hanks = tokens_html(&hank, "").await;
        let kept = row(&hanks, "globex-token");
        assert_eq!(row_status(kept), "Active");
        assert!(kept.contains(&masked(&globex_token)));
        assert_eq!(usage(&hanks), "1 of 50 tokens");
    }

    async fn delete_needs_the_typed_word_and_keeps_the_row_as_deleted(app) {
        app.setup_admin().await;
        create_token(&app, "old-ci", "30", "read_only").await;
        let id = row_id(row(&tokens_html(&app, "").await, "old-ci"));
        let path = format!("/tokens/{id}/delete");

        let confirm_page = app.get_html(&path).await;
        assert!(confirm_page.contains("Delete token “old-ci”"));
        assert!(confirm_page.contains("To confirm, type “delete” below"));

        for word in ["Delete", "DELETE", "yes", "", "delete it"] {
            let response = post_on(&app, &path, &[("confirm", word)]).await;
            assert_eq!(response.status().as_u16(), 400, "confirm={word:?}");
            let page = response.text().await.unwrap();
            assert!(page.contains("Type “delete” to confirm. The token was not deleted."), "confirm={word:?}");
            assert!(page.contains(&format!("name=\"confirm\" type=\"text\" value=\"{}\"", escaped(word))), "what was typed is kept");
            assert_eq!(row_status(row(&tokens_html(&app, "").await, "old-ci")), "Active", "confirm={word:?}");
        }

        let response = post_on(&app, &path, &[("confirm", "delete")]).await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(location(&response), "/tokens");
        let list = tokens_html(&app, "").await;
        assert!(flashes(&list).contains(&"Token old-ci deleted.".to_owned()), "{:?}", flashes(&list));
        let gone = row(&list, "old-ci");
        assert_eq!(row_status(gone), "Deleted", "the row stays, as deleted");
        assert!(!gone.contains("Delete token old-ci"), "no delete button on a deleted row");
        assert!(!gone.contains("Regenerate"));
        assert_eq!(usage(&list), "0 of 50 tokens");

        let deleted = tokens_html(&app, "?status=deleted").await;
        assert_eq!(row_names(&deleted), names(&["old-ci"]));
        assert_eq!(row_status(row(&deleted, "old-ci")), "Deleted");
        assert!(row_names(&tokens_html(&app, "?status=active").await).is_empty());

        let again = post_on(&app, &path, &[("confirm", "delete")]).await;
        assert_eq!(again.status().as_u16(), 303);
        let list = tokens_html(&app, "").await;
        assert!(flashes(&list).contains(&"Token old-ci was already deleted; nothing changed.".to_owned()), "{:?}", flashes(&list));
        assert_eq!(rows_named(&list, "old-ci").len(), 1);

        let confirm_page = app.get_html(&path).await;
        assert!(confirm_page.contains("This token is already deleted"));
        assert!(!confirm_page.contains("name=\"confirm\""), "nothing left to confirm");
    }

    async fn a_deleted_tokens_name_can_be_reused_but_a_live_one_cannot(app) {
        app.setup_admin().await;
        create_token(&app, "ci", "30", "read_only").await;

        for name in ["ci", "  ci  "] {
            let response = post_new_token(&app, &[("name", name), ("expires_in", "30"), ("role", "read_only")]).await;
            assert_eq!(response.status().as_u16(), 400, "{name:?}");
            let page = response.text().await.unwrap();
            assert_eq!(
                field_error(&page, "name").as_deref(),
                Some("You already have a token with this name. Choose another name.")
            );
            assert!(page.contains(&format!("value=\"{name}\"")), "what was typed is kept");
        }
        let list = tokens_html(&app, "").await;
        assert_eq!(rows_named(&list, "ci").len(), 1);
        assert_eq!(usage(&list), "1 of 50 tokens");

        let id = row_id(row(&list, "ci"));
        let deleted = post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(deleted.status().as_u16(), 303);
        let again = create_token(&app, "ci", "30", "read_only").await;

        let list = tokens_html(&app, "").await;
        let both = rows_named(&list, "ci");
        assert_eq!(both.len(), 2);
        assert_eq!(row_status(both[0]), "Active", "the new one, newest first");
        assert!(both[0].contains(&masked(&again)));
        assert_eq!(row_status(both[1]), "Deleted");
        assert_eq!(usage(&list), "1 of 50 tokens");
    }

    async fn regenerate_reveals_a_new_secret_and_deletes_the_old_one(app) {
        app.setup_admin().await;
        let created = post_new_token(&app, &[
            ("name", "deploy"), ("description", "Nightly deploys"), ("expires_in", "90"), ("role", "engineer"),
        ]).await;
        assert_eq!(created.status().as_u16(), 303);
        let first = reveal(&app).await;
        let old_id = row_id(row(&tokens_html(&app, "").await, "deploy"));

        let confirm_page = app.get_html(&format!("/tokens/{old_id}/regenerate")).await;
        assert!(confirm_page.contains("Regenerate token “deploy”"));

        let response = post_on(&app, &format!("/tokens/{old_id}/regenerate"), &[]).await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(location(&response), "/tokens/reveal");
        let reveal_page = app.get_html("/tokens/reveal").await;
        assert!(reveal_page.contains("Token “deploy”"), "same name");
        let second = revealed_token(&reveal_page).expect("the new token is revealed");
        assert!(is_token_format(&second));
        assert_ne!(second, first, "a new secret");
        assert!(!app.get_html("/tokens/reveal").await.contains(&second), "revealed once");

        let list = tokens_html(&app, "").await;
        let rows = rows_named(&list, "deploy");
        assert_eq!(rows.len(), 2);
        let (new, old) = (rows[0], rows[1]);
        assert_ne!(row_id(new), old_id);
        assert_eq!(row_status(new), "Active");
        assert!(new.contains(&masked(&second)));
        assert!(new.contains("<td data-label=\"Role\">Engineer</td>"), "same role");
        assert!(new.contains("Nightly deploys"), "same description");
        assert!(new.contains(&date_in(90)), "the same 90-day lifetime again: {new}");
        assert_eq!(row_id(old), old_id);
        assert_eq!(row_status(old), "Deleted");
        assert!(old.contains(&masked(&first)));
        assert_eq!(usage(&list), "1 of 50 tokens");

        let stale = post_on(&app, &format!("/tokens/{old_id}/regenerate"), &[]).await;
        assert_eq!(stale.status().as_u16(), 303);
        assert_eq!(location(&stale), "/tokens");
        let list = tokens_html(&app, "").await;
        assert!(flashes(&list).contains(&"Token deploy is deleted and cannot be regenerated.".to_owned()));
        assert_eq!(rows_named(&list, "deploy").len(), 2, "nothing new");
    }

    async fn the_list_is_newest_first_and_paged_by_twenty(app) {
        app.setup_admin().await;
        create_many(&app, 25).await;

        let first = tokens_html(&app, "").await;
        assert_eq!(row_names(&first), tok_names(6..=25));
        assert!(first.contains("25 tokens · page 1 of 2"));
        assert!(!first.contains("rel=\"prev\""));
        assert_eq!(usage(&first), "25 of 50 tokens");
        let next = next_href(&first).expect("a Next link");
        assert_eq!(next, "/tokens?page=2");

        let second = app.get_html(&next).await;
        assert_eq!(row_names(&second), tok_names(1..=5));
        assert!(second.contains("25 tokens · page 2 of 2"));
        assert!(next_href(&second).is_none(), "no Next on the last page");
        assert!(second.contains("<a class=\"button\" href=\"/tokens\" rel=\"prev\">Previous</a>"));

        let stale = tokens_html(&app, "?page=7").await;
        assert_eq!(row_names(&stale), tok_names(1..=5), "a page past the end shows the last one");
    }

    async fn filters_combine_and_survive_paging(app) {
        app.setup_admin().await;
        create_many(&app, 25).await;
        create_token(&app, "eng-live", "30", "engineer").await;
        create_token(&app, "eng-gone", "30", "engineer").await;
        let gone = row_id(row(&tokens_html(&app, "").await, "eng-gone"));
        assert_eq!(post_on(&app, &format!("/tokens/{gone}/delete"), &[("confirm", "delete")]).await.status().as_u16(), 303);
        plant_token_in_the_past(&app, "admin", "expired-one", 40, "30").await;

        let search = tokens_html(&app, "?q=tok-2").await;
        assert_eq!(row_names(&search), tok_names(20..=25));
        assert!(search.contains("value=\"tok-2\""), "the search box keeps the query");
        assert_eq!(row_names(&tokens_html(&app, "?q=TOK-2").await), tok_names(20..=25), "case-insensitive");
        assert_eq!(row_names(&tokens_html(&app, "?q=%20tok-2%20").await), tok_names(20..=25), "trimmed");

        let read_only = tokens_html(&app, "?role=read_only").await;
        assert_eq!(row_names(&read_only), tok_names(6..=25));
        assert!(read_only.contains("<option value=\"read_only\" selected>"));
        let next = next_href(&read_only).expect("Next");
        assert_eq!(next, "/tokens?role=read_only&page=2");
        let mut expected = tok_names(1..=5);
        expected.push("expired-one".into());
        assert_eq!(row_names(&app.get_html(&next).await), expected);

        assert_eq!(row_names(&tokens_html(&app, "?role=engineer").await), names(&["eng-gone", "eng-live"]));
        assert!(row_names(&tokens_html(&app, "?role=admin").await).is_empty());

        let active = tokens_html(&app, "?status=active").await;
        let mut expected = names(&["eng-live"]);
        expected.extend(tok_names(7..=25));
        assert_eq!(row_names(&active), expected);
        let next = next_href(&active).expect("Next");
        assert_eq!(next, "/tokens?status=active&page=2");
        let page_two = app.get_html(&next).await;
        assert_eq!(row_names(&page_two), tok_names(1..=6));
        assert!(rows(&page_two).iter().all(|row| row_status(row) == "Active"));
        assert!(page_two.contains("<option value=\"active\" selected>"));

        let expired = tokens_html(&app, "?status=expired").await;
        assert_eq!(row_names(&expired), names(&["expired-one"]));
        assert_eq!(row_status(row(&expired, "expired-one")), "Expired");
        assert_eq!(row_names(&tokens_html(&app, "?status=deleted").await), names(&["eng-gone"]));
        assert_eq!(row_names(&tokens_html(&app, "?status=all").await).len(), 20);

        let combined = tokens_html(&app, "?role=read_only&status=active&q=TOK").await;
        assert_eq!(row_names(&combined), tok_names(6..=25));
        assert!(combined.contains("25 tokens · page 1 of 2"));
        let next = next_href(&combined).expect("Next");
        assert_eq!(next, "/tokens?role=read_only&status=active&q=TOK&page=2");
        let page_two = app.get_html(&next).await;
        assert_eq!(row_names(&page_two), tok_names(1..=5));
        assert!(page_two.contains("<a class=\"button\" href=\"/tokens?role=read_only&#38;status=active&#38;q=TOK\" rel=\"prev\">Previous</a>"));
        assert!(page_two.contains("href=\"/tokens\">Clear filters</a>"));

        assert_eq!(row_names(&tokens_html(&app, "?role=engineer&status=active").await), names(&["eng-live"]));
        assert_eq!(row_names(&tokens_html(&app, "?role=engineer&status=deleted&q=eng").await), names(&["eng-gone"]));
        assert!(row_names(&tokens_html(&app, "?role=engineer&status=expired").await).is_empty());

        let nothing = tokens_html(&app, "?q=zzz").await;
        assert!(nothing.contains("No tokens match these filters"));
        assert!(nothing.contains("<a href=\"/tokens\">Clear the filters</a>"));
        assert!(!nothing.contains("No personal tokens yet"));
        assert_eq!(usage(&nothing), "26 of 50 tokens", "the usage line ignores filters");
    }

    async fn a_name_search_treats_wildcards_as_text(app) {
        app.setup_admin().await;
        create_token(&app, "100% coverage", "30", "read_only").await;
        create_token(&app, "snake_case", "30", "read_only").await;
        create_token(&app, "back\\slash", "30", "read_only").await;
        create_token(&app, "plain", "30", "read_only").await;

        assert_eq!(row_names(&tokens_html(&app, "?q=%25").await), names(&["100% coverage"]));
        assert_eq!(row_names(&tokens_html(&app, "?q=_").await), names(&["snake_case"]));
        assert_eq!(row_names(&tokens_html(&app, "?q=%5C").await), names(&["back\\slash"]));
        assert_eq!(row_names(&tokens_html(&app, "?q=").await).len(), 4, "an empty search is no filter");
    }

    async fn a_name_search_finds_every_name_holding_the_text_whoever_looks(app) {
        // SQLite narrows a search of three or more characters through its trigram table; the
        // answer must be exactly the names that hold the text, ignoring case, as before.
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let admins = ["Deploy-Prod", "deploy-staging", "ÜBER-deploy", "prod-db", "PRODUCTION", "reproduce", "über alles"];
        let erins = ["erin-deploy", "Erin Prod", "scratch"];
        for name in admins {
            create_token(&app, name, "30", "read_only").await;
        }
        for name in erins {
            create_token(&erin, name, "30", "read_only").await;
        }
        for needle in ["deploy", "prod", "PROD", "über", "ÜBER", "uce", "ploy-s", "y-p", "erin", "zzz", "pr", "d"] {
            let holds = |name: &&&str| name.to_lowercase().contains(&needle.to_lowercase());
            let q = needle.replace(' ', "+");
            let mut everyone: Vec<String> = admins.iter().chain(erins.iter()).filter(holds).map(|n| n.to_string()).collect();
            let mut seen = row_names(&tokens_html(&app, &format!("?q={q}")).await);
            everyone.sort();
            seen.sort();
            assert_eq!(seen, everyone, "the administrator searching {needle:?}");
            let mut own: Vec<String> = erins.iter().filter(holds).map(|n| n.to_string()).collect();
            let mut seen = row_names(&tokens_html(&erin, &format!("?q={q}")).await);
            own.sort();
            seen.sort();
            assert_eq!(seen, own, "an engineer searching {needle:?} sees only their own");
        }
    }

    async fn a_name_search_treats_the_index_query_syntax_as_text(app) {
        // SQLite finds candidates through an FTS5 trigram table, whose query language has its own
        // operators; typed into the search box they are plain characters.
        app.setup_admin().await;
        for name in ["say \"hi\" now", "a*b star", "col:on", "x AND y", "^caret", "NEAR(it)", "plain"] {
            create_token(&app, name, "30", "read_only").await;
        }
        for (q, expected) in [
            ("%22hi%22", "say \"hi\" now"),
            ("a*b", "a*b star"),
            ("col%3A", "col:on"),
            ("AND+y", "x AND y"),
            ("and y", "x AND y"),
            ("%5Ecar", "^caret"),
            ("NEAR(", "NEAR(it)"),
        ] {
            assert_eq!(row_names(&tokens_html(&app, &format!("?q={q}")).await), names(&[expected]), "?q={q}");
        }
        assert!(row_names(&tokens_html(&app, "?q=%22%22%22").await).is_empty(), "three quotes match nothing");
        assert!(row_names(&tokens_html(&app, "?q=b+st+x").await).is_empty(), "words are one string, not terms");
    }

    async fn control_characters_in_the_search_are_not_a_server_error(app) {
        app.setup_admin().await;
        create_token(&app, "only", "30", "read_only").await;

        for q in ["%00", "on%00ly", "%07", "%1B%5B31m"] {
            let response = app.get(&format!("/tokens?q={q}")).await;
            assert_eq!(response.status().as_u16(), 200, "?q={q}");
            let page = response.text().await.unwrap();
            assert_eq!(usage(&page), "1 of 50 tokens", "?q={q}: the list, not an error page");
            assert!(page.contains("<input id=\"filter-q\" name=\"q\" type=\"search\""));
        }
    }

    async fn unknown_filter_values_are_ignored_with_a_notice(app) {
        app.setup_admin().await;
        create_token(&app, "only", "30", "read_only").await;

        let cases = [
            ("?status=bogus", "Unknown status filter “bogus” ignored."),
            ("?status=Active", "Unknown status filter “Active” ignored."),
            ("?role=root", "Unknown role filter “root” ignored."),
            ("?page=abc", "Page “abc” does not exist; showing page 1."),
            ("?page=-1", "Page “-1” does not exist; showing page 1."),
            ("?page=0", "Page “0” does not exist; showing page 1."),
            ("?page=99999999999999999999", "Page “99999999999999999999” does not exist; showing page 1."),
            ("?issuer=nobody", "The “issued by” filter was not understood and is ignored."),
        ];
        for (query, notice) in cases {
            let response = app.get(&format!("/tokens{query}")).await;
            assert_eq!(response.status().as_u16(), 200, "{query}");
            let page = response.text().await.unwrap();
            assert!(page.contains(notice), "{query}: expected {notice:?}");
            assert_eq!(row_names(&page), names(&["only"]), "{query}: the value is ignored, not matched");
        }

        let response = app.get("/tokens?status=%3Cscript%3Ealert(1)%3C/script%3E&role=%3Cb%3E").await;
        assert_eq!(response.status().as_u16(), 200);
        let page = response.text().await.unwrap();
        assert!(page.contains("Unknown status filter “&#60;script&#62;alert(1)&#60;/script&#62;” ignored."));
        assert!(page.contains("Unknown role filter “&#60;b&#62;” ignored."));
        assert!(!page.contains("<script>alert(1)"), "typed markup is never echoed raw");
    }

    async fn a_page_number_far_past_the_end_is_not_a_server_error(app) {
        app.setup_admin().await;
        create_token(&app, "only", "30", "read_only").await;

        for page in ["1000000", "9223372036854775807"] {
            let response = app.get(&format!("/tokens?page={page}")).await;
            assert_eq!(response.status().as_u16(), 200, "?page={page}");
            let html = response.text().await.unwrap();
            assert_eq!(row_names(&html), names(&["only"]), "?page={page} shows the last page");
        }
    }

    async fn empty_lists_invite_adding_a_token_or_explain_the_filters(app) {
        app.setup_admin().await;

        let empty = tokens_html(&app, "").await;
        assert!(empty.contains("No personal tokens yet"));
        assert!(empty.contains("<a class=\"button button-primary\" href=\"/tokens/new\">Add a personal token</a>"));
        assert_eq!(usage(&empty), "0 of 50 tokens");
        assert!(rows(&empty).is_empty());
        assert!(!empty.contains("aria-label=\"Pages\""), "no pager for nothing");

        let filtered = tokens_html(&app, "?status=deleted").await;
        assert!(filtered.contains("No tokens match these filters"));
        assert!(!filtered.contains("No personal tokens yet"));
    }

    async fn tokens_expiring_within_seven_days_are_flagged(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;

        create_token(&app, "monthly", "30", "read_only").await;
        let list = tokens_html(&app, "").await;
        assert!(!has_expiry_badge(&list), "30 days left: no badge");
        assert!(!row(&list, "monthly").contains("expires in"));

        create_token(&app, "weekly", "7", "read_only").await;
        let list = tokens_html(&app, "").await;
        assert!(has_expiry_badge(&list), "7 days left: the badge");
        assert!(list.contains("(a token expires soon)"), "said to screen readers too");
        assert!(row(&list, "weekly").contains("expires in 7 days"), "{}", row(&list, "weekly"));
        assert!(!row(&list, "monthly").contains("expires in"));
        assert!(has_expiry_badge(&app.get_html("/tokens/new").await), "on every page's nav");
        assert!(!has_expiry_badge(&erin.get_html("/tokens").await), "not for someone who cannot see it");

        let weekly = row_id(row(&list, "weekly"));
        post_on(&app, &format!("/tokens/{weekly}/delete"), &[("confirm", "delete")]).await;
        let list = tokens_html(&app, "").await;
        assert!(!has_expiry_badge(&list), "a deleted token does not warn");
        assert!(!row(&list, "weekly").contains("expires in"));

        create_token(&app, "daily", "1", "read_only").await;
        let list = tokens_html(&app, "").await;
        assert!(has_expiry_badge(&list));
        assert!(row(&list, "daily").contains("expires in 1 day<"), "{}", row(&list, "daily"));

        create_token(&erin, "erins-daily", "1", "read_only").await;
        assert!(has_expiry_badge(&erin.get_html("/tokens").await), "her own token warns her");
    }

    async fn an_expired_token_shows_as_expired_and_does_not_count(app) {
        app.setup_admin().await;
        create_token(&app, "current", "30", "read_only").await;
        plant_token_in_the_past(&app, "admin", "stale", 40, "30").await;
        plant_token_in_the_past(&app, "admin", "just-expired", 8, "7").await;

        let list = tokens_html(&app, "").await;
        let stale = row(&list, "stale");
        assert_eq!(row_status(stale), "Expired");
        assert!(stale.contains(&date_in(-10)), "expired 10 days ago: {stale}");
        assert!(!stale.contains("expires in"));
        assert_eq!(row_status(row(&list, "just-expired")), "Expired");
        assert_eq!(row_status(row(&list, "current")), "Active");
        assert_eq!(usage(&list), "1 of 50 tokens", "expired tokens do not count");
        assert!(list.contains("3 tokens · page 1 of 1"));
        assert!(!has_expiry_badge(&list), "an expired token is not “expiring soon”");

        assert_eq!(row_names(&tokens_html(&app, "?status=expired").await), names(&["just-expired", "stale"]));
        assert_eq!(row_names(&tokens_html(&app, "?status=active").await), names(&["current"]));
        assert!(row_names(&tokens_html(&app, "?status=deleted").await).is_empty());

        let stale_id = row_id(row(&list, "stale"));
        let regenerated = post_on(&app, &format!("/tokens/{stale_id}/regenerate"), &[]).await;
        assert_eq!(location(&regenerated), "/tokens/reveal", "an expired token can be regenerated");
        reveal(&app).await;
        let list = tokens_html(&app, "").await;
        let both = rows_named(&list, "stale");
        assert_eq!(both.len(), 2);
        assert_eq!(row_status(both[0]), "Active");
        assert!(both[0].contains(&date_in(30)), "the same 30-day lifetime, from now: {}", both[0]);
        assert_eq!(row_status(both[1]), "Deleted");
        assert_eq!(usage(&list), "2 of 50 tokens");
    }

    async fn bad_input_is_refused_at_its_field_keeps_what_was_typed_and_creates_nothing(app) {
        app.setup_admin().await;
        create_token(&app, "existing", "30", "read_only").await;

        let long_name = "n".repeat(10_000);
        let long_description = "d".repeat(501);
        let too_far = date_in(400);
        // (name, description, expires_in, expires_at, field, message)
        let cases: [(&str, &str, &str, &str, &str, &str); 12] = [
            ("", "", "30", "", "name", "Give the token a name."),
            ("   ", "", "30", "", "name", "Give the token a name."),
            (&long_name, "", "30", "", "name", "The name must be at most 100 characters."),
            ("bell\u{7}", "", "30", "", "name", "The name cannot contain control characters."),
            ("bad-description", &long_description, "30", "", "description", "The description must be at most 500 characters."),
            ("bad-past", "kept text", "custom", "2020-01-01", "expires_at", "The expiry date must be in the future."),
            ("bad-far", "", "custom", &too_far, "expires_at", "The expiry date can be at most 365 days away"),
            ("bad-format", "", "custom", "31/12/2027", "expires_at", "Enter the date as YYYY-MM-DD."),
            ("bad-empty-date", "", "custom", "", "expires_at", "Choose an expiry date."),
            ("bad-never", "", "never", "", "expires_in", "This account does not allow tokens that never expire."),
            ("bad-two", "", "2", "", "expires_in", "Choose one of the listed expiry options."),
            ("bad-blank-expiry", "", "", "", "expires_in", "Choose when the token expires."),
        ];
        for (name, description, expires_in, expires_at, field, message) in cases {
            let label = format!("{field}: {message}");
            let response = post_new_token(&app, &[
                ("name", name), ("description", description), ("expires_in", expires_in),
                ("expires_at", expires_at), ("role", "engineer"),
            ]).await;
            assert_eq!(response.status().as_u16(), 400, "{label}");
            let page = response.text().await.unwrap();
            assert!(page.contains("The token was not created."), "{label}");
            let shown = field_error(&page, field).unwrap_or_else(|| panic!("no message at {field}: {label}"));
            assert!(shown.starts_with(message), "{label}: got {shown:?}");
            for other in ["name", "description", "expires_in", "expires_at", "role"] {
                assert!(other == field || field_error(&page, other).is_none(), "{label}: only {field} is marked, not {other}");
            }
            let described_by = [format!("aria-describedby=\"{field}-error\""), format!(" {field}-error\"")];
            assert!(described_by.iter().any(|d| page.contains(d.as_str())), "{label}: the field points at its message");
            assert!(page.contains(&format!("id=\"name\" name=\"name\" type=\"text\" value=\"{}\"", escaped(name))), "{label}: name kept");
            assert!(page.contains(&format!(">{}</textarea>", escaped(description))), "{label}: description kept");
            assert!(page.contains(&format!("name=\"expires_at\" type=\"date\" value=\"{}\"", escaped(expires_at))), "{label}: date kept");
            if expires_in == "custom" {
                assert!(page.contains("<option value=\"custom\" selected>"), "{label}: the custom choice is kept");
            }
            assert!(page.contains("<option value=\"engineer\" selected>"), "{label}: the role is kept");
        }

        let list = tokens_html(&app, "").await;
        assert_eq!(row_names(&list), names(&["existing"]), "nothing was created");
        assert_eq!(usage(&list), "1 of 50 tokens");
    }

    async fn custom_dates_at_the_edges_of_the_policy_are_accepted(app) {
        app.setup_admin().await;
        let form = app.get_html("/tokens/new").await;
        let (tomorrow, last_day) = (date_in(1), date_in(365));
        assert!(form.contains(&format!("min=\"{tomorrow}\" max=\"{last_day}\"")), "the date picker offers tomorrow … a year");

        for (name, date) in [("soonest", &tomorrow), ("latest", &last_day)] {
            let response = post_new_token(&app, &[
                ("name", name), ("expires_in", "custom"), ("expires_at", date), ("role", "read_only"),
            ]).await;
            assert_eq!(response.status().as_u16(), 303, "{date}: {}", response.text().await.unwrap_or_default());
        }
        let list = tokens_html(&app, "").await;
        assert!(row(&list, "soonest").contains(&format!(">{tomorrow}</time>")));
        assert!(row(&list, "soonest").contains("expires in 1 day"));
        assert!(row(&list, "latest").contains(&format!(">{last_day}</time>")));
    }

    async fn markup_in_a_name_is_always_shown_as_text(app) {
        app.setup_admin().await;
        let evil = "<script>alert(1)</script>";
        let shown = "&#60;script&#62;alert(1)&#60;/script&#62;";

        let refused = post_new_token(&app, &[
            ("name", evil), ("description", &"d".repeat(501)), ("expires_in", "30"), ("role", "read_only"),
        ]).await;
        assert_eq!(refused.status().as_u16(), 400);
        let page = refused.text().await.unwrap();
        assert!(page.contains(&format!("value=\"{shown}\"")), "re-shown escaped in the form");
        assert!(!page.contains("<script>alert"), "never a raw script tag");

        let created = post_new_token(&app, &[
            ("name", evil), ("description", "<img src=x onerror=alert(2)> & more"), ("expires_in", "30"), ("role", "read_only"),
        ]).await;
        assert_eq!(created.status().as_u16(), 303);
        let reveal_page = app.get_html("/tokens/reveal").await;
        assert!(reveal_page.contains(&format!("Token “{shown}”")));
        assert!(!reveal_page.contains("<script>alert"));

        let list = tokens_html(&app, "").await;
        let row = row(&list, evil);
        assert!(row.contains("&#60;img src=x onerror=alert(2)&#62; &#38; more"));
        assert!(row.contains(&format!("aria-label=\"Delete token {shown}\"")));
        assert!(!list.contains("<script>alert") && !list.contains("<img src=x"));
        let id = row_id(row);

        for path in [format!("/tokens/{id}/delete"), format!("/tokens/{id}/regenerate")] {
            let page = app.get_html(&path).await;
            assert!(page.contains(shown), "{path}");
            assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{path}");
        }
        post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        let list = tokens_html(&app, "").await;
        assert!(list.contains(&format!("Token {shown} deleted.")), "the flash is escaped too");
        assert!(!list.contains("<script>alert"));
    }

    async fn unicode_names_are_kept_intact(app) {
        app.setup_admin().await;
        let name = "déploiement 🚀";
        let response = post_new_token(&app, &[
            ("name", name), ("description", "Über alles · 日本語 ✓"), ("expires_in", "30"), ("role", "read_only"),
        ]).await;
        assert_eq!(response.status().as_u16(), 303);
        assert!(app.get_html("/tokens/reveal").await.contains("Token “déploiement 🚀”"));

        let list = tokens_html(&app, "").await;
        let row = row(&list, name);
        assert!(row.contains("<span class=\"token-name\">déploiement 🚀</span>"));
        assert!(row.contains("Über alles · 日本語 ✓"));
        assert!(row.contains("aria-label=\"Delete token déploiement 🚀\""));
        assert_eq!(row_names(&tokens_html(&app, "?q=d%C3%A9ploiement").await), names(&[name]));
        assert_eq!(row_names(&tokens_html(&app, "?q=%F0%9F%9A%80").await), names(&[name]), "search by emoji");

        let hundred = "é".repeat(100);
        create_token(&app, &hundred, "30", "read_only").await;
        assert_eq!(rows_named(&tokens_html(&app, "").await, &hundred).len(), 1, "100 characters, not bytes");
    }

    async fn a_name_search_ignores_case_for_non_ascii_letters_too(app) {
        app.setup_admin().await;
        create_token(&app, "Über-Deploy", "30", "read_only").await;
        create_token(&app, "other", "30", "read_only").await;

        for q in ["%C3%9Cber", "%C3%BCber", "%C3%9CBER"] {
            let page = tokens_html(&app, &format!("?q={q}")).await;
            assert_eq!(row_names(&page), names(&["Über-Deploy"]), "?q={q} (Über / über / ÜBER)");
        }
    }

    async fn token_forms_refuse_a_missing_or_wrong_csrf_token(app) {
        app.setup_admin().await;
        let kept = create_token(&app, "keep", "30", "read_only").await;
        let id = row_id(row(&tokens_html(&app, "").await, "keep"));
        let other_session = csrf_token_in(&app.new_browser().get_html("/login").await);
        let own_session = csrf_token_in(&app.get_html("/tokens").await);
        assert_ne!(other_session, own_session);
        let zeros = "0".repeat(64);

        let new_fields = [("name", "forged"), ("expires_in", "30"), ("role", "admin")];
        let delete_fields = [("confirm", "delete")];
        let actions: [(String, &[(&str, &str)]); 3] = [
            ("/tokens/new".into(), &new_fields),
            (format!("/tokens/{id}/delete"), &delete_fields),
            (format!("/tokens/{id}/regenerate"), &[]),
        ];
        for (action, fields) in &actions {
            for csrf in [None, Some(""), Some(zeros.as_str()), Some(other_session.as_str())] {
                let mut body: Vec<(&str, &str)> = fields.to_vec();
                if let Some(csrf) = csrf {
                    body.push(("csrf_token", csrf));
                }
                let response = app.client.post(app.url(action)).form(&body).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 403, "{action} with csrf {csrf:?}");
                assert!(response.text().await.unwrap().contains("Nothing was changed."));
            }
            let mut json: std::collections::HashMap<&str, &str> = fields.iter().copied().collect();
            json.insert("csrf_token", &own_session);
            let response = app.client.post(app.url(action)).json(&json).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 403, "{action} as JSON is not a form");
        }

        assert!(revealed_token(&app.get_html("/tokens/reveal").await).is_none(), "nothing to reveal");
        let list = tokens_html(&app, "").await;
        assert_eq!(row_names(&list), names(&["keep"]), "no forged token, no regenerated one");
        let row = row(&list, "keep");
        assert_eq!(row_status(row), "Active");
        assert!(row.contains(&masked(&kept)));
        assert_eq!(usage(&list), "1 of 50 tokens");
    }

    async fn the_account_limit_holds_under_concurrent_creates(app) {
        app.setup_admin().await;
        let csrf = csrf_token_in(&app.get_html("/tokens/new").await);

        let mut creates = JoinSet::new();
        for i in 0..60 {
            let (client, url, csrf) = (app.client.clone(), app.url("/tokens/new"), csrf.clone());
            creates.spawn(async move {
                let form = [
                    ("csrf_token", csrf),
                    ("name", format!("burst-{i:02}")),
                    ("expires_in", "30".to_owned()),
                    ("role", "read_only".to_owned()),
                ];
                let response = client.post(url).form(&form).send().await.expect("POST");
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            });
        }
        let answers = creates.join_all().await;

        let created = answers.iter().filter(|(status, _)| *status == 303).count();
        let refused: Vec<&String> = answers.iter().filter(|(status, _)| *status == 409).map(|(_, body)| body).collect();
        let others: Vec<u16> = answers.iter().map(|(status, _)| *status).filter(|s| *s != 303 && *s != 409).collect();
        assert!(others.is_empty(), "every answer is 303 or 409, got {others:?}");
        assert_eq!(created, 50, "exactly the limit is created");
        assert_eq!(refused.len(), 10);
        for body in refused {
            assert!(body.contains("This account already has 50 live tokens, the most it allows."), "{body}");
        }

        let list = tokens_html(&app, "").await;
        assert_eq!(usage(&list), "50 of 50 tokens");
        assert!(list.contains("50 tokens · page 1 of 3"));

        let one_more = post_new_token(&app, &[("name", "one-more"), ("expires_in", "30"), ("role", "read_only")]).await;
        assert_eq!(one_more.status().as_u16(), 409);
        let page = one_more.text().await.unwrap();
        assert!(page.contains("the most it allows"));
        assert!(page.contains("value=\"one-more\""), "what was typed is kept");

        let freed = row_id(rows(&list)[0]);
        let deleted = post_on(&app, &format!("/tokens/{freed}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(deleted.status().as_u16(), 303);
        create_token(&app, "one-more", "30", "read_only").await;
        assert_eq!(usage(&tokens_html(&app, "").await), "50 of 50 tokens", "a deleted token frees its slot");
    }

    async fn creating_regenerating_and_deleting_are_audited_without_secrets(app) {
        app.setup_admin().await;
        let first = create_token(&app, "audited", "30", "read_only").await;
        let id = row_id(row(&tokens_html(&app, "").await, "audited"));
        let regenerated = app.post_form(&format!("/tokens/{id}/regenerate"), &format!("/tokens/{id}/regenerate"), &[]).await;
        assert_eq!(location(&regenerated), "/tokens/reveal");
        let second = reveal(&app).await;
        let new_id = row_id(rows_named(&tokens_html(&app, "?status=active").await, "audited")[0]);
        let deleted = post_on(&app, &format!("/tokens/{new_id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(deleted.status().as_u16(), 303);

        let store = personal_tokens::store::Store::open(&personal_tokens::store::DatabaseUrl::parse(&app.database_url).unwrap(), 1).unwrap();
        let events = store.run_blocking(|conn| {
            use diesel::prelude::*;
            use personal_tokens::store::schema::audit_events as a;
            Ok(a::table
                .filter(a::kind.like("token_%"))
                .order(a::created_at.asc())
                .select((a::kind, a::subject, a::detail, a::ip, a::actor_id.is_not_null()))
                .load::<(String, String, String, Option<String>, bool)>(conn)?)
        }).unwrap();

        let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(kinds, ["token_created", "token_regenerated", "token_deleted"]);
        assert_eq!(events[0].1, id);
        assert_eq!(events[2].1, new_id);
        for (_, subject, detail, ip, has_actor) in &events {
            assert!(has_actor);
            assert_eq!(ip.as_deref(), Some("127.0.0.1"));
            for secret in [&first, &second] {
                assert!(!subject.contains(&secret[4..]) && !detail.contains(&secret[4..]), "no secret in the audit log");
            }
        }
    }

    async fn the_first_page_after_a_reveal_changes_the_cookie_and_quiet_pages_do_not(app) {
        app.setup_admin().await;
        app.get("/tokens").await; // shows, and so clears, the welcome message
        let quiet = app.get("/tokens").await;
        assert!(quiet.headers().get("set-cookie").is_none(), "nothing changed, nothing re-sent");

        let created = post_new_token(&app, &[("name", "ci"), ("expires_in", "30"), ("role", "read_only")]).await;
        assert_eq!(location(&created), "/tokens/reveal");
        let revealed = app.get("/tokens/reveal").await;
        assert!(revealed.headers().get("set-cookie").is_some());
        let after = app.get("/tokens").await;
        assert!(after.headers().get("set-cookie").is_some(), "leaving the reveal page changes the cookie");
        let settled = app.get("/tokens").await;
        assert!(settled.headers().get("set-cookie").is_none());
    }
}

both_backends! {
    async fn a_long_list_counts_a_thousand_past_the_page_and_says_so(app) {
        app.setup_admin().await;
        let token = create_token(&app, "api", "30", "admin").await;
        plant_many_tokens(&app, "admin", 1_025).await;

        let first = tokens_html(&app, "").await;
        assert!(first.contains("1000+ tokens · page 1 of 50+"), "counting stops early");
        assert!(next_href(&first).is_some());
        assert!(first.contains("1000+ of 10000 tokens"), "live tokens are counted to a thousand");
        let deep = tokens_html(&app, "?page=51").await;
        assert!(deep.contains("1026 tokens · page 51 of 52"), "exact once within reach");
        assert_eq!(rows(&deep).len(), 20);
        let last = tokens_html(&app, "?page=52").await;
        assert_eq!(row_names(&last).len(), 6);
        assert!(next_href(&last).is_none());

        let (_, _, body) = call(&app, reqwest::Method::GET, "/api/v1/tokens", Some(&token), None).await;
        assert_eq!((body["total"].as_i64(), body["total_exact"].as_bool()), (Some(1000), Some(false)));
        assert_eq!(body["live_in_account_exact"], false);
        let (_, _, body) = call(&app, reqwest::Method::GET, "/api/v1/tokens?page=52", Some(&token), None).await;
        assert_eq!((body["total"].as_i64(), body["total_exact"].as_bool()), (Some(1026), Some(true)));
        assert_eq!(body["tokens"].as_array().unwrap().len(), 6);
    }
}
