//! SCIM 2.0 users (RFC 7643, RFC 7644) as an identity provider sends them: the core User
//! resource read into our types, the one filter we answer, and PatchOp applied to a user's
//! representation. Knows JSON, because SCIM is JSON, but neither HTTP nor SQL.
//!
//! A PATCH is applied to the user's current representation and the result read exactly as a
//! PUT body is, so both take the same rules and say the same things.

use serde_json::{Map, Value};

use super::DomainError;
use super::users::{DisplayName, Email, Username};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A given or family name, an externalId: free text within reason.
const TEXT_MAX: usize = 200;
/// What we keep of a person's name and addresses as sent, at most.
const DOCUMENT_MAX: usize = 4096;
/// More operations than this in one PATCH is not a provider's change but a flood.
const OPERATIONS_MAX: usize = 100;

/// RFC 7644 §3.12's `scimType`, for the refusals that have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    InvalidSyntax,
    InvalidPath,
    InvalidValue,
    NoTarget,
    Mutability,
    Uniqueness,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::InvalidValue => "invalidValue",
            ScimType::NoTarget => "noTarget",
            ScimType::Mutability => "mutability",
            ScimType::Uniqueness => "uniqueness",
        }
    }
}

/// Why a SCIM request was refused, in words for the provider's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRefusal {
    pub scim_type: ScimType,
    pub detail: String,
}

impl ScimRefusal {
    pub fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            scim_type,
            detail: detail.into(),
        }
    }

    fn value(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidValue, detail)
    }
}

impl From<DomainError> for ScimRefusal {
    fn from(error: DomainError) -> Self {
        let attribute = match error.field {
            "username" => "userName",
            "display_name" => "displayName",
            "email" => "emails",
            other => other,
        };
        ScimRefusal::value(format!("{attribute}: {}", error.message))
    }
}

/// A person as a SCIM body describes them, every attribute checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUser {
    pub user_name: Username,
    /// `displayName`, else the name's parts, else the username: the pages need one.
    pub display_name: DisplayName,
    /// The address notices go to: the primary of `emails`, else the first.
    pub email: Option<Email>,
    /// `None`: not said, so a person's standing is left as it is (a new person is active).
    pub active: Option<bool>,
    pub external_id: Option<String>,
    /// What the provider said of `displayName`, `name`, `emails` and `active`, as it said it,
    /// so that it reads them back as sent (RFC 7644 §3.5.2: a removed attribute stays absent).
    /// Ours are still the username, display name, e-mail and standing the rules act on.
    pub document: Map<String, Value>,
}

/// The attributes kept as the provider sent them, in `ScimUser::document`.
const KEPT: [&str; 4] = ["displayName", "name", "emails", "active"];

/// Looks an attribute up as SCIM does: names are case-insensitive (RFC 7643 §2.1).
fn attribute<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_null())
}

fn optional_string(
    object: &Map<String, Value>,
    name: &str,
    label: &str,
) -> Result<Option<String>, ScimRefusal> {
    match attribute(object, name) {
        None => Ok(None),
        Some(Value::String(text)) => {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            if text.chars().count() > TEXT_MAX {
                return Err(ScimRefusal::value(format!(
                    "{label} must be at most {TEXT_MAX} characters."
                )));
            }
            if text.chars().any(char::is_control) {
                return Err(ScimRefusal::value(format!(
                    "{label} cannot contain control characters."
                )));
            }
            Ok(Some(text.to_owned()))
        }
        Some(_) => Err(ScimRefusal::value(format!("{label} must be a string."))),
    }
}

/// `active` as a boolean; Entra ID sends the strings "True" and "False".
fn boolean(value: &Value, label: &str) -> Result<bool, ScimRefusal> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimRefusal::value(format!(
            "{label} must be true or false."
        ))),
    }
}

fn has_control_characters(value: &Value) -> bool {
    match value {
        Value::String(text) => text.chars().any(char::is_control),
        Value::Array(items) => items.iter().any(has_control_characters),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.chars().any(char::is_control) || has_control_characters(value)),
        _ => false,
    }
}

/// The e-mail address that notices go to: the primary one, else the first.
fn primary_email(object: &Map<String, Value>) -> Result<Option<Email>, ScimRefusal> {
    let Some(emails) = attribute(object, "emails") else {
        return Ok(None);
    };
    let Value::Array(emails) = emails else {
        return Err(ScimRefusal::value("emails must be a list."));
    };
    let mut chosen: Option<&Value> = None;
    for email in emails {
        let Value::Object(email) = email else {
            return Err(ScimRefusal::value(
                "Each of emails must be an object with a value.",
            ));
        };
        let primary = match attribute(email, "primary") {
            Some(flag) => boolean(flag, "emails.primary")?,
            None => false,
        };
        let value = attribute(email, "value");
        if primary || chosen.is_none() {
            chosen = value;
        }
        if primary {
            break;
        }
    }
    match chosen {
        None => Ok(None),
        Some(Value::String(address)) => Ok(Email::parse_optional(address)?),
        Some(_) => Err(ScimRefusal::value("emails.value must be a string.")),
    }
}

impl ScimUser {
    /// Reads a POST or PUT body, or a patched representation. Read-only attributes (`id`,
    /// `meta`) and attributes we do not keep are ignored, as RFC 7644 §3.5.1 allows.
    pub fn from_json(body: &Value) -> Result<Self, ScimRefusal> {
        let Value::Object(object) = body else {
            return Err(ScimRefusal::new(
                ScimType::InvalidSyntax,
                "The body must be a JSON object: a SCIM User.",
            ));
        };
        if let Some(schemas) = attribute(object, "schemas") {
            let names: Vec<&str> = match schemas {
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !names.iter().any(|s| s.eq_ignore_ascii_case(USER_SCHEMA)) {
                return Err(ScimRefusal::new(
                    ScimType::InvalidSyntax,
                    format!("schemas must include {USER_SCHEMA}."),
                ));
            }
        }
        let user_name = match attribute(object, "userName") {
            Some(Value::String(name)) => Username::parse(name)?,
            Some(_) => return Err(ScimRefusal::value("userName must be a string.")),
            None => return Err(ScimRefusal::value("userName is required.")),
        };
        let name = match attribute(object, "name") {
            None => Map::new(),
            Some(Value::Object(name)) => name.clone(),
            Some(_) => return Err(ScimRefusal::value("name must be an object.")),
        };
        let given_name = optional_string(&name, "givenName", "name.givenName")?;
        let family_name = optional_string(&name, "familyName", "name.familyName")?;
        let formatted = optional_string(&name, "formatted", "name.formatted")?;
        let display_name = match optional_string(object, "displayName", "displayName")? {
            Some(shown) => DisplayName::parse(&shown)?,
            None => {
                let joined = [given_name.as_deref(), family_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let fallback = formatted.filter(|_| joined.is_empty()).unwrap_or(joined);
                if fallback.is_empty() {
                    DisplayName::parse(user_name.as_str())?
                } else {
                    DisplayName::parse(&fallback)?
                }
            }
        };
        let active = attribute(object, "active")
            .map(|flag| boolean(flag, "active"))
            .transpose()?;
        let mut document = Map::new();
        for kept in KEPT {
            if let Some(value) = attribute(object, kept) {
                document.insert(kept.to_owned(), value.clone());
            }
        }
        if let Some(active) = active {
            document.insert("active".into(), Value::Bool(active));
        }
        let kept_size = Value::Object(document.clone()).to_string().len();
        if kept_size > DOCUMENT_MAX {
            return Err(ScimRefusal::value(format!(
                "name, emails and displayName together must be at most {DOCUMENT_MAX} bytes \
                 of JSON; these are {kept_size}."
            )));
        }
        if has_control_characters(&Value::Object(document.clone())) {
            return Err(ScimRefusal::value(
                "Attribute values cannot contain control characters.",
            ));
        }
        Ok(Self {
            email: primary_email(object)?,
            external_id: optional_string(object, "externalId", "externalId")?,
            user_name,
            display_name,
            active,
            document,
        })
    }
}

/// The one kind of filter a provider needs to find a person before creating them: an
/// attribute `eq` a string. Okta and Entra ID send `userName eq "…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFilter {
    UserName(String),
    ExternalId(String),
    Id(String),
    Email(String),
}

impl UserFilter {
    pub fn parse(raw: &str) -> Result<Self, ScimRefusal> {
        let unsupported = || {
            ScimRefusal::new(
                ScimType::InvalidFilter,
                "Only `ATTRIBUTE eq \"value\"` is supported here, for userName, externalId, id \
                 and emails.value.",
            )
        };
        let raw = raw.trim();
        let (attribute, rest) = raw
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?;
        let (operator, value) = rest
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?;
        if !operator.eq_ignore_ascii_case("eq") {
            return Err(unsupported());
        }
        let value: String = serde_json::from_str(value.trim()).map_err(|_| {
            ScimRefusal::new(
                ScimType::InvalidFilter,
                "The value compared must be a string in double quotes.",
            )
        })?;
        if value.chars().any(char::is_control) {
            return Err(ScimRefusal::new(
                ScimType::InvalidFilter,
                "The value compared cannot contain control characters.",
            ));
        }
        let attribute = attribute
            .strip_prefix(USER_SCHEMA)
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or(attribute);
        match attribute.to_ascii_lowercase().as_str() {
            "username" => Ok(UserFilter::UserName(value)),
            "externalid" => Ok(UserFilter::ExternalId(value)),
            "id" => Ok(UserFilter::Id(value)),
            "emails" | "emails.value" => Ok(UserFilter::Email(value)),
            _ => Err(unsupported()),
        }
    }
}

/// One step of a PATCH path: an attribute, and optionally one of its sub-attributes. A
/// value filter on `emails` (`emails[type eq "work"].value`) addresses the one address we keep.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    attribute: String,
    sub: Option<String>,
}

impl Path {
    /// `None`: an attribute we do not keep (`title`, an extension's), which a PATCH may name
    /// and is ignored, as a PUT's are; Entra ID's default mappings send several.
    fn parse(raw: &str) -> Result<Option<Self>, ScimRefusal> {
        let raw = raw.trim();
        let raw = raw
            .strip_prefix(USER_SCHEMA)
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or(raw);
        let (head, sub) = match raw.split_once('[') {
            Some((head, rest)) => {
                let (_, after) = rest.split_once(']').ok_or_else(|| {
                    ScimRefusal::new(ScimType::InvalidPath, format!("`{raw}` has an unclosed ["))
                })?;
                let sub = after.strip_prefix('.').map(str::to_owned);
                if !head.eq_ignore_ascii_case("emails") {
                    return Err(ScimRefusal::new(
                        ScimType::InvalidPath,
                        "A value filter in a path is supported only on emails.",
                    ));
                }
                (head.to_owned(), sub)
            }
            None => match raw.split_once('.') {
                Some((head, sub)) => (head.to_owned(), Some(sub.to_owned())),
                None => (raw.to_owned(), None),
            },
        };
        let known = [
            "userName",
            "name",
            "displayName",
            "emails",
            "active",
            "externalId",
        ];
        let Some(attribute) = known.iter().find(|k| k.eq_ignore_ascii_case(&head)) else {
            if ["id", "meta", "schemas"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&head))
            {
                return Err(ScimRefusal::new(
                    ScimType::Mutability,
                    format!("{head} is read-only."),
                ));
            }
            return Ok(None);
        };
        Ok(Some(Self {
            attribute: (*attribute).to_owned(),
            sub,
        }))
    }
}

/// Sets `path` in the representation, replacing what is there.
fn set(user: &mut Map<String, Value>, path: &Path, value: Value) {
    let before = remove_key(user, &path.attribute);
    match (path.attribute.as_str(), &path.sub) {
        ("emails", Some(_)) => {
            // `emails[type eq "work"].value`: the one address we keep.
            let email = serde_json::json!([{"value": value, "type": "work", "primary": true}]);
            user.insert("emails".into(), email);
        }
        (_, Some(sub)) => {
            let mut inner = match before {
                Some(Value::Object(inner)) => inner,
                _ => Map::new(),
            };
            remove_key(&mut inner, sub);
            inner.insert(sub.clone(), value);
            user.insert(path.attribute.clone(), Value::Object(inner));
        }
        (_, None) => {
            user.insert(path.attribute.clone(), value);
        }
    }
}

fn remove_key(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()?;
    object.remove(&key)
}

/// Applies an RFC 7644 §3.5.2 PatchOp body to `user`, the person's current representation.
/// The result still has to pass `ScimUser::from_json`.
pub fn apply_patch(user: &mut Map<String, Value>, body: &Value) -> Result<(), ScimRefusal> {
    let syntax = |detail: &str| ScimRefusal::new(ScimType::InvalidSyntax, detail);
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("A PatchOp body needs Operations, a list."))?;
    if operations.is_empty() || operations.len() > OPERATIONS_MAX {
        return Err(syntax(&format!(
            "Operations must hold between 1 and {OPERATIONS_MAX} operations."
        )));
    }
    for operation in operations {
        let op = operation
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| syntax("Each operation needs an op: add, replace or remove."))?
            .to_ascii_lowercase();
        let path = match operation.get("path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) => match Path::parse(path)? {
                Some(path) => Some(path),
                None => continue,
            },
            Some(_) => {
                return Err(ScimRefusal::new(
                    ScimType::InvalidPath,
                    "path must be a string.",
                ));
            }
        };
        let value = operation.get("value").cloned();
        match (op.as_str(), path, value) {
            ("remove", None, _) => {
                return Err(ScimRefusal::new(ScimType::NoTarget, "remove needs a path."));
            }
            ("remove", Some(path), _) => match &path.sub {
                Some(sub) if path.attribute == "name" => {
                    if let Some(Value::Object(name)) = user.get_mut("name") {
                        remove_key(name, sub);
                    }
                }
                _ => {
                    remove_key(user, &path.attribute);
                }
            },
            ("add" | "replace", _, None) => {
                return Err(ScimRefusal::new(
                    ScimType::InvalidValue,
                    format!("{op} needs a value."),
                ));
            }
            ("add" | "replace", Some(path), Some(value)) => set(user, &path, value),
            ("add" | "replace", None, Some(Value::Object(values))) => {
                // Okta: {"op": "replace", "value": {"active": false}}. Entra ID may name a
                // sub-attribute with a dotted key ("name.givenName").
                for (key, value) in values {
                    let Some(path) = Path::parse(&key)? else {
                        continue;
                    };
                    match (path.attribute.as_str(), &path.sub, value) {
                        ("name", None, Value::Object(parts)) => {
                            for (sub, part) in parts {
                                let path = Path {
                                    attribute: "name".into(),
                                    sub: Some(sub),
                                };
                                set(user, &path, part);
                            }
                        }
                        (_, _, value) => set(user, &path, value),
                    }
                }
            }
            ("add" | "replace", None, Some(_)) => {
                return Err(ScimRefusal::new(
                    ScimType::InvalidValue,
                    "Without a path, the value must be an object of attributes.",
                ));
            }
            _ => {
                return Err(syntax("op must be add, replace or remove."));
            }
        }
    }
    Ok(())
}

/// What the store knows of a person, for their SCIM representation.
pub struct ScimRecord<'a> {
    pub user: &'a super::User,
    pub external_id: Option<&'a str>,
    /// `ScimUser::document` as last stored; `None` for people no provider has described yet
    /// (added on the pages), who read with everything we know of them.
    pub document: Option<&'a Map<String, Value>>,
    pub created: chrono::NaiveDateTime,
    pub modified: chrono::NaiveDateTime,
    /// `…/scim/v2/Users/{id}`.
    pub location: String,
}

/// The User resource (RFC 7643 §4.1) as we answer it. The person's own state wins over the
/// document: an address changed on the settings page, a deactivation on the users page.
pub fn representation(record: &ScimRecord<'_>) -> Value {
    let user = record.user;
    let said = |attribute: &str| {
        record
            .document
            .is_none_or(|doc| doc.contains_key(attribute))
    };
    let document = record.document.cloned().unwrap_or_default();
    let mut out = Map::new();
    out.insert("schemas".into(), serde_json::json!([USER_SCHEMA]));
    out.insert("id".into(), Value::String(user.id.to_string()));
    if let Some(external_id) = record.external_id {
        out.insert("externalId".into(), Value::String(external_id.to_owned()));
    }
    out.insert("userName".into(), Value::String(user.username.clone()));
    if said("displayName") {
        out.insert(
            "displayName".into(),
            Value::String(user.display_name.clone()),
        );
    }
    if let Some(name) = document.get("name") {
        out.insert("name".into(), name.clone());
    }
    let sent_emails = document.get("emails");
    let sent_address = sent_emails
        .and_then(|emails| {
            let object = Map::from_iter([("emails".to_owned(), emails.clone())]);
            primary_email(&object).ok().flatten()
        })
        .map(|email| email.as_str().to_owned());
    match (&user.email, sent_emails) {
        (Some(address), Some(emails)) if sent_address.as_deref() == Some(address.as_str()) => {
            out.insert("emails".into(), emails.clone());
        }
        (Some(address), _) => {
            out.insert(
                "emails".into(),
                serde_json::json!([{"value": address, "type": "work", "primary": true}]),
            );
        }
        (None, _) => {}
    }
    // A provider that removed `active` reads it back absent (RFC 7644 §3.5.2.2), whatever the
    // standing it left; a provider that manages it sees a deactivation made on the page.
    if said("active") {
        out.insert("active".into(), Value::Bool(user.active));
    }
    let version = version_of(&out);
    out.insert(
        "meta".into(),
        serde_json::json!({
            "resourceType": "User",
            "created": rfc3339(record.created),
            "lastModified": rfc3339(record.modified),
            "location": record.location,
            "version": version,
        }),
    );
    Value::Object(out)
}

fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The version (weak ETag) of what `record` reads as.
pub fn version(record: &ScimRecord<'_>) -> String {
    representation(record)["meta"]["version"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// RFC 7644 §3.14: `If-Match` (a list of tags, or `*`) names the version a write goes over.
pub fn version_matches(if_match: &str, version: &str) -> bool {
    if_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == version || format!("W/{tag}") == version)
}

impl ScimUser {
    /// What this body does to `user`'s standing. `said_before` is what the provider last said
    /// of them. `active: false` deactivates. `active: true` reactivates only someone the
    /// provider itself had deactivated: a person an administrator deactivated on the users page
    /// stays so until an administrator says otherwise, however often the provider repeats
    /// `active: true` (Okta sends it with every profile push).
    pub fn standing_change(
        &self,
        user: &super::User,
        said_before: Option<&Map<String, Value>>,
    ) -> Option<super::users::StandingChange> {
        use super::users::StandingChange;
        let provider_deactivated = said_before
            .and_then(|doc| doc.get("active"))
            .and_then(Value::as_bool)
            == Some(false);
        match self.active {
            Some(false) if user.active => Some(StandingChange::Deactivate),
            Some(true) if !user.active && provider_deactivated => Some(StandingChange::Reactivate),
            _ => None,
        }
    }
}

/// A weak ETag of what the resource says, so any change anywhere (a page, SCIM) changes it.
fn version_of(resource: &Map<String, Value>) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(Value::Object(resource.clone()).to_string().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// RFC 7644 §3.9: `attributes` keeps only the named ones, `excludedAttributes` drops them;
/// `id` and `schemas` are always returned. Names are compared case-insensitively, and a
/// sub-attribute (`name.givenName`) selects its whole attribute.
pub fn select_attributes(resource: &mut Value, attributes: Option<&str>, excluded: Option<&str>) {
    let Value::Object(fields) = resource else {
        return;
    };
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|name| {
                let name = name.trim();
                let name = name
                    .strip_prefix(USER_SCHEMA)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .unwrap_or(name);
                name.split('.').next().unwrap_or("").to_ascii_lowercase()
            })
            .filter(|name| !name.is_empty())
            .collect()
    };
    let always = |key: &str| key == "id" || key == "schemas";
    if let Some(attributes) = attributes.map(names).filter(|list| !list.is_empty()) {
        fields.retain(|key, _| always(key) || attributes.contains(&key.to_ascii_lowercase()));
    } else if let Some(excluded) = excluded.map(names) {
        fields.retain(|key, _| always(key) || !excluded.contains(&key.to_ascii_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(body: Value) -> Result<ScimUser, ScimRefusal> {
        ScimUser::from_json(&body)
    }

    #[test]
    fn a_core_user_is_read_with_its_primary_email_and_names() {
        let read = user(json!({
            "schemas": [USER_SCHEMA],
            "userName": "Ada@Example.com",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "home@example.com"}, {"value": "ada@example.com", "primary": true}],
            "externalId": "00u1",
            "active": true
        }))
        .unwrap();
        assert_eq!(read.user_name.as_str(), "ada@example.com");
        assert_eq!(read.display_name.as_str(), "Ada Lovelace");
        assert_eq!(read.email.unwrap().as_str(), "ada@example.com");
        assert_eq!(read.external_id.as_deref(), Some("00u1"));
        assert_eq!(read.active, Some(true));
        assert_eq!(
            read.document["name"]["familyName"], "Lovelace",
            "kept as sent"
        );
        assert_eq!(read.document["emails"][0]["value"], "home@example.com");
        let bare = user(json!({"userName": "bob"})).unwrap();
        assert_eq!((bare.display_name.as_str(), bare.active), ("bob", None));
        assert!(bare.document.is_empty(), "nothing said, nothing kept");
    }

    #[test]
    fn bad_values_are_refused_with_the_attribute_named() {
        let long = "a".repeat(10_000);
        for (body, words) in [
            (json!({}), "userName is required"),
            (json!({"userName": 7}), "userName must be a string"),
            (
                json!({"userName": long}),
                "userName: Username must be at most",
            ),
            (
                json!({"userName": "a\u{0}b"}),
                "userName: Username may use only",
            ),
            (
                json!({"userName": "ok", "active": "maybe"}),
                "active must be true or false",
            ),
            (
                json!({"userName": "ok", "emails": [{"value": "nope"}]}),
                "emails: Enter an e-mail",
            ),
            (
                json!({"userName": "ok", "displayName": "x\u{0}"}),
                "displayName cannot contain",
            ),
            (
                json!({"userName": "ok", "schemas": ["urn:other"]}),
                "schemas must include",
            ),
        ] {
            let refusal = user(body.clone()).unwrap_err();
            assert!(refusal.detail.contains(words), "{body}: {}", refusal.detail);
        }
        assert_eq!(
            user(json!([1])).unwrap_err().scim_type,
            ScimType::InvalidSyntax
        );
    }

    #[test]
    fn the_filter_is_an_attribute_eq_a_quoted_string() {
        assert_eq!(
            UserFilter::parse(r#"userName eq "ada@example.com""#).unwrap(),
            UserFilter::UserName("ada@example.com".into())
        );
        assert_eq!(
            UserFilter::parse(r#"USERNAME  EQ  "a \"q\"""#).unwrap(),
            UserFilter::UserName("a \"q\"".into())
        );
        assert_eq!(
            UserFilter::parse(r#"externalId eq "00u1""#).unwrap(),
            UserFilter::ExternalId("00u1".into())
        );
        for bad in [
            r#"userName co "ada""#,
            r#"userName eq ada"#,
            r#"title eq "x""#,
            r#"userName eq "a" and active eq true"#,
            "",
            "userName",
        ] {
            assert_eq!(
                UserFilter::parse(bad).unwrap_err().scim_type,
                ScimType::InvalidFilter,
                "{bad}"
            );
        }
    }

    fn patched(mut current: Value, body: Value) -> Result<Value, ScimRefusal> {
        let object = current.as_object_mut().unwrap();
        apply_patch(object, &body)?;
        Ok(current)
    }

    fn ada() -> Value {
        json!({"userName": "ada", "displayName": "Ada", "active": true,
               "name": {"givenName": "Ada"}, "emails": [{"value": "ada@example.com", "primary": true}]})
    }

    #[test]
    fn okta_and_entra_deactivations_both_apply() {
        let okta = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {"active": false}}]});
        let entra = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        for body in [okta, entra] {
            let after = user(patched(ada(), body).unwrap()).unwrap();
            assert_eq!(after.active, Some(false));
            assert_eq!(after.user_name.as_str(), "ada");
        }
    }

    #[test]
    fn paths_reach_sub_attributes_and_the_work_email() {
        let body = json!({"Operations": [
            {"op": "replace", "path": "name.familyName", "value": "Lovelace"},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "replace", "value": {"name.givenName": "Augusta", "externalId": "x1"}},
            {"op": "remove", "path": "displayName"}
        ]});
        let after = user(patched(ada(), body).unwrap()).unwrap();
        assert_eq!(
            after.document["name"],
            json!({"givenName": "Augusta", "familyName": "Lovelace"})
        );
        assert_eq!(after.display_name.as_str(), "Augusta Lovelace");
        assert!(
            !after.document.contains_key("displayName"),
            "removed stays removed"
        );
        assert_eq!(after.email.unwrap().as_str(), "new@example.com");
        assert_eq!(after.external_id.as_deref(), Some("x1"));
    }

    #[test]
    fn active_true_brings_back_only_whom_the_provider_deactivated() {
        use crate::domain::users::StandingChange;
        let active = crate::domain::User::sample(crate::domain::Role::Engineer);
        let inactive = crate::domain::User {
            active: false,
            ..active.clone()
        };
        let on = user(json!({"userName": "ada", "active": true})).unwrap();
        let off = user(json!({"userName": "ada", "active": false})).unwrap();
        let silent = user(json!({"userName": "ada"})).unwrap();
        let by_provider = off.document.clone();
        let on_the_page = on.document.clone();
        assert_eq!(
            off.standing_change(&active, None),
            Some(StandingChange::Deactivate)
        );
        assert_eq!(off.standing_change(&inactive, Some(&by_provider)), None);
        assert_eq!(
            on.standing_change(&inactive, Some(&by_provider)),
            Some(StandingChange::Reactivate)
        );
        assert_eq!(
            on.standing_change(&inactive, Some(&on_the_page)),
            None,
            "the page's decision holds"
        );
        assert_eq!(on.standing_change(&inactive, None), None);
        assert_eq!(silent.standing_change(&active, Some(&by_provider)), None);
        assert!(version_matches("W/\"abc\", W/\"def\"", "W/\"def\""));
        assert!(version_matches("*", "W/\"x\""));
        assert!(!version_matches("W/\"abc\"", "W/\"def\""));
    }

    #[test]
    fn patch_refusals_say_what_is_wrong() {
        for (body, kind) in [
            (json!({}), ScimType::InvalidSyntax),
            (json!({"Operations": []}), ScimType::InvalidSyntax),
            (
                json!({"Operations": [{"op": "move", "path": "active"}]}),
                ScimType::InvalidSyntax,
            ),
            (
                json!({"Operations": [{"op": "remove"}]}),
                ScimType::NoTarget,
            ),
            (
                json!({"Operations": [{"op": "replace", "path": "id", "value": "x"}]}),
                ScimType::Mutability,
            ),
            (
                json!({"Operations": [{"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}]}),
                ScimType::InvalidPath,
            ),
            (
                json!({"Operations": [{"op": "replace", "path": "active"}]}),
                ScimType::InvalidValue,
            ),
            (
                json!({"Operations": [{"op": "replace", "value": 3}]}),
                ScimType::InvalidValue,
            ),
        ] {
            assert_eq!(
                patched(ada(), body.clone()).unwrap_err().scim_type,
                kind,
                "{body}"
            );
        }
        let ignored = json!({"Operations": [
            {"op": "replace", "path": "title", "value": "x"},
            {"op": "add", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}}},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "x"},
            {"op": "replace", "path": "active", "value": false}
        ]});
        let after = user(patched(ada(), ignored).unwrap()).unwrap();
        assert_eq!(
            after.active,
            Some(false),
            "attributes we do not keep do not stop the rest"
        );
        let removed = patched(
            ada(),
            json!({"Operations": [{"op": "remove", "path": "userName"}]}),
        )
        .unwrap();
        assert!(
            user(removed)
                .unwrap_err()
                .detail
                .contains("userName is required")
        );
    }
}
