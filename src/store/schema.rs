//! The diesel schema, written once for both backends: text ids, UTC `Timestamp`s, `Binary` digests.
//! Keep it in step with both folders under `migrations/`.

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        account_id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        created_at -> Timestamp,
        email -> Nullable<Text>,
        email_notices -> Bool,
        session_epoch -> Integer,
        kind -> Text,
        external_id -> Nullable<Text>,
        scim_document -> Nullable<Text>,
        updated_at -> Nullable<Timestamp>,
        removed_at -> Nullable<Timestamp>,
        sso_issuer -> Nullable<Text>,
        sso_subject -> Nullable<Text>,
        sso_refresh -> Nullable<Text>,
        sso_checked_at -> Nullable<Timestamp>,
        sso_vouched_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_policies (account_id) {
        account_id -> Text,
        max_lifetime_days -> Integer,
        allow_never -> Bool,
        max_tokens -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        account_id -> Text,
        issuer_id -> Text,
        name -> Text,
        description -> Text,
        role -> Text,
        digest -> Binary,
        last_four -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        last_used_ip -> Nullable<Text>,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        notified_7d_at -> Nullable<Timestamp>,
        notified_1d_at -> Nullable<Timestamp>,
        allowed_ips -> Text,
        deleted_reason -> Nullable<Text>,
        suspended_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
        scopes -> Nullable<Text>,
    }
}

diesel::table! {
    services (account_id, name) {
        account_id -> Text,
        name -> Text,
        description -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        account_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        kind -> Text,
        subject -> Text,
        ip -> Nullable<Text>,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        account_id -> Text,
        token_id -> Nullable<Text>,
        recipient_id -> Text,
        kind -> Text,
        window_days -> Integer,
        detail -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        email_status -> Text,
        email_to -> Nullable<Text>,
        email_attempts -> Integer,
        email_next_attempt_at -> Nullable<Timestamp>,
        email_leased_until -> Nullable<Timestamp>,
        email_error -> Nullable<Text>,
        email_sent_at -> Nullable<Timestamp>,
        subject_id -> Nullable<Text>,
    }
}

diesel::table! {
    token_addresses (token_id, ip) {
        token_id -> Text,
        ip -> Text,
        first_seen -> Timestamp,
        last_seen -> Timestamp,
        user_agent -> Text,
    }
}

diesel::table! {
    token_activity (token_id, day) {
        token_id -> Text,
        day -> Date,
        requests -> BigInt,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(account_policies -> accounts (account_id));
diesel::joinable!(tokens -> accounts (account_id));
diesel::joinable!(notices -> tokens (token_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    account_policies,
    tokens,
    audit_events,
    notices,
    token_addresses,
    token_activity,
    server_secrets,
    services,
    throttles,
    sessions,
);
