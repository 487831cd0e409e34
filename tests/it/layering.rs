//! The module graph points one way: app → web, api → auth, state, notify → store → domain. This reads
//! the source files and fails, naming the file and line, when a lower layer imports a higher one.

use std::path::{Path, PathBuf};

/// (folder or file under src/, what its code may not mention, why)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "domain",
        &[
            "actix",
            "diesel",
            "crate::store",
            "crate::auth",
            "crate::state",
            "crate::web",
            "crate::api",
            "crate::app",
        ],
        "the domain knows neither HTTP nor SQL nor the layers above it",
    ),
    (
        "store",
        &[
            "actix",
            "crate::auth",
            "crate::state",
            "crate::web",
            "crate::api",
            "crate::app",
        ],
        "the store serves every layer and imports only the domain",
    ),
    (
        "auth",
        &["crate::web", "crate::api", "crate::app"],
        "auth holds mechanisms; the extractors that answer live in web/ and api/",
    ),
    (
        "state.rs",
        &["crate::web", "crate::api", "crate::app"],
        "the shared state sits below both answering layers",
    ),
    (
        "metrics.rs",
        &[
            "actix",
            "diesel",
            "crate::store",
            "crate::state",
            "crate::web",
            "crate::api",
            "crate::app",
        ],
        "every layer counts into the metrics, so they import none of them",
    ),
    (
        "observe.rs",
        &["crate::web", "crate::api", "crate::app"],
        "the request middleware wraps pages and API alike and belongs to neither",
    ),
    (
        "metrics_page.rs",
        &["crate::web", "crate::api", "crate::app"],
        "/metrics is served beside pages and the API and belongs to neither",
    ),
    (
        "web",
        &["crate::api", "crate::app"],
        "pages and the API do not import each other",
    ),
    (
        "api",
        &["crate::web", "crate::app"],
        "pages and the API do not import each other",
    ),
];

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).expect("source folder is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The code of a file without comments, joined so that a `use crate::{…}` group spanning lines
/// reads as one; each piece keeps the line number it started on.
fn code_lines(source: &str) -> Vec<(usize, String)> {
    source
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let code = match line.find("//") {
                // A `//` inside a string ("http://…") is not a comment; only strip a real one.
                Some(at) if !line[..at].contains('"') => &line[..at],
                _ => line,
            };
            (i + 1, code.to_owned())
        })
        .collect()
}

/// Every place in `source` that names a forbidden path: `crate::web…`, an item of a
/// `use crate::{…}` group (even one spread over lines), or a crate such as `actix_web`.
fn violations(source: &str, forbidden: &[&str]) -> Vec<(usize, String)> {
    let lines = code_lines(source);
    let mut found = Vec::new();
    for (number, code) in &lines {
        for name in forbidden {
            let hit = if name.starts_with("crate::") {
                mentions(code, name)
            } else {
                mentions_crate(code, name)
            };
            if hit {
                found.push((*number, format!("{name}: {}", code.trim())));
            }
        }
    }
    let joined: String = lines.iter().map(|(_, code)| format!("{code}\n")).collect();
    for (at, _) in joined.match_indices("crate::{") {
        let line = joined[..at].matches('\n').count() + 1;
        for module in group_roots(&joined[at + "crate::{".len()..]) {
            let path = format!("crate::{module}");
            if forbidden.contains(&path.as_str()) {
                found.push((line, format!("{path}: in a `use crate::{{…}}` group")));
            }
        }
    }
    found
}

/// The first path segment of each item of a brace group, given the text after its `{`.
fn group_roots(rest: &str) -> Vec<String> {
    let mut roots = Vec::new();
    let (mut depth, mut item) = (0, String::new());
    for c in rest.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                roots.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    roots.push(item);
    roots
        .iter()
        .filter_map(|item| item.split("::").next())
        .map(|root| root.trim().to_owned())
        .filter(|root| !root.is_empty())
        .collect()
}

fn mentions(code: &str, path: &str) -> bool {
    code.match_indices(path).any(|(at, _)| {
        let after = code[at + path.len()..].chars().next();
        !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// An external crate such as `actix` matches `actix_web`, `actix_session`, `actix::…`.
fn mentions_crate(code: &str, name: &str) -> bool {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|piece| piece == name || piece.starts_with(&format!("{name}_")))
}

#[test]
fn lower_layers_do_not_import_higher_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (place, forbidden, why) in RULES {
        let files = rust_files(&src.join(place));
        assert!(
            !files.is_empty(),
            "src/{place} has no Rust files: fix RULES"
        );
        for file in files {
            let source = std::fs::read_to_string(&file).expect("source file is readable");
            for (line, what) in violations(&source, forbidden) {
                let file = file.strip_prefix(&src).unwrap_or(&file).display();
                broken.push(format!("src/{file}:{line}: {what} ({why})"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layering:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_check_sees_every_way_of_importing() {
    let forbidden = &["actix", "crate::web"];
    let cases = [
        ("use crate::web::WebError;", true),
        ("use crate::{domain, web::WebError};", true),
        ("use crate::{\n    domain::Role,\n    web,\n};", true),
        (
            "use crate::{\n    domain::Role,\n    web::{WebError, forms},\n};",
            true,
        ),
        ("fn f() -> crate::web::WebError { todo!() }", true),
        ("use actix_web::HttpRequest;", true),
        ("use crate::webhooks::Hook;", false),
        ("// use crate::web::WebError;", false),
        ("use crate::domain::web_safe;", false),
        ("use crate::{domain::Role, store};", false),
    ];
    for (source, expected) in cases {
        assert_eq!(
            !violations(source, forbidden).is_empty(),
            expected,
            "{source:?}"
        );
    }
}
