//! The pages (verification at `/`, statistics at `/stats`): plain HTML, CSS and one small script, compiled into the binary and
//! served by kyso itself (no framework, nothing fetched from elsewhere), under a strict
//! Content-Security-Policy (no inline script or style, Trusted Types: the script builds the
//! page with `textContent` only). The page calls the API v1 like any client; its strings come
//! from kyso-verify's catalogue (`/i18n.json`), the one the CLI's summary uses.
//!
//! Pages share `app.css` and `app.js` (language switch, catalogue, dates, the header's
//! navigation); a page is one entry of [`PAGES`] and its HTML.

use super::server::{self, Shared};
use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The policy of every page and asset: only this origin's script, style, images and API; no
/// inline code, no plugins, no framing, no form posts elsewhere, DOM sinks closed to strings.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; \
require-trusted-types-for 'script'; trusted-types 'none'";

/// A file the pages load.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// The pages (HTML), each with its path: the verification page, and the statistics page for
/// administrators and auditors (the page is public; its figures come from `/v1/stats`, which
/// admits only those roles).
pub const PAGES: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("index.html"),
    },
    Asset {
        path: "/stats",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("stats.html"),
    },
];

/// What the pages load.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("app.css"),
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("app.js"),
    },
    Asset {
        path: "/verify.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("verify.js"),
    },
    Asset {
        path: "/stats.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("stats.js"),
    },
    Asset {
        path: "/favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("favicon.svg"),
    },
    Asset {
        path: "/i18n.json",
        content_type: "application/json; charset=utf-8",
        body: kyso_verify::i18n::CATALOGUE.as_bytes(),
    },
];

/// Is `path` one of the page's own files (a page, or what it loads)?
pub fn is_file(path: &str) -> bool {
    PAGES.iter().chain(ASSETS).any(|a| a.path == path)
}

fn respond(a: &'static Asset) -> Response {
    let mut r = a.body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    r
}

/// The pages and their files, public (the page is the same for everyone; what it may do is
/// decided by the API's roles and `web.public_verification`), rate limited per address by the
/// same gate as the API.
pub fn routes(state: Shared) -> Router<Shared> {
    let mut r = Router::new();
    for a in PAGES.iter().chain(ASSETS) {
        r = r.route(a.path, get(move || async move { respond(a) }));
    }
    r.route_layer(middleware::from_fn_with_state(
        (state, &[] as &'static [super::auth::Role], 0),
        server::gate,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_no_inline_script_or_style_and_load_only_their_own_files() {
        for p in PAGES {
            let html = std::str::from_utf8(p.body).unwrap();
            assert!(!html.contains(" style="), "{}: inline style", p.path);
            assert!(!html.contains("<style"), "{}: <style>", p.path);
            for part in html.split(" on").skip(1) {
                let name: String = part.chars().take_while(char::is_ascii_lowercase).collect();
                assert!(
                    name.is_empty() || !part[name.len()..].starts_with('='),
                    "{}: event handler attribute on{name}",
                    p.path
                );
            }
            for part in html.split("<script").skip(1) {
                let tag = part.split('>').next().unwrap();
                assert!(tag.contains("src=\"/"), "{}: inline script", p.path);
                assert!(part[tag.len() + 1..].starts_with("</script>"));
            }
            for attr in ["src=\"", "href=\""] {
                for part in html.split(attr).skip(1) {
                    let url = part.split('"').next().unwrap();
                    assert!(
                        url.starts_with('/') || url.starts_with('#'),
                        "{}: {url} is not this origin's",
                        p.path
                    );
                    let path = url.split('#').next().unwrap();
                    assert!(
                        path.is_empty() || PAGES.iter().chain(ASSETS).any(|a| a.path == path),
                        "{}: {url} is not served",
                        p.path
                    );
                }
            }
            assert!(html.contains("<html lang=\"vi\">"));
        }
        assert!(!CSP.contains("unsafe"));
    }

    #[test]
    fn every_key_the_pages_use_is_in_the_catalogue() {
        let cat: serde_json::Value = serde_json::from_str(kyso_verify::i18n::CATALOGUE).unwrap();
        let mut n = 0;
        let sources = PAGES.iter().chain(ASSETS).filter(|a| {
            a.content_type.starts_with("text/html") || a.content_type.starts_with("text/javascript")
        });
        for a in sources {
            let text = std::str::from_utf8(a.body).unwrap();
            for marker in ["data-i18n=\"", "data-i18n-label=\"", "t(\""] {
                for (at, _) in text.match_indices(marker) {
                    // t("…") itself, not split("…") or the like
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    if marker == "t(\"" && (before.is_alphanumeric() || "_.$".contains(before)) {
                        continue;
                    }
                    let part = &text[at + marker.len()..];
                    let key = part.split('"').next().unwrap();
                    if key.ends_with('.') {
                        continue; // a prefix completed at run time (verdict.<INDICATION>)
                    }
                    assert!(cat.get(key).is_some(), "{}: {key} not in i18n.json", a.path);
                    n += 1;
                }
            }
        }
        assert!(n > 40, "{n} keys found");
    }
}
