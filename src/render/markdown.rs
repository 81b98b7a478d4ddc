//! Rule text (investigation guides, setup notes) rendered from Markdown to HTML that is safe to
//! publish: rule files arrive in pull requests, so nothing in them may run in a reader's browser.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The only link schemes a published page may carry (no `javascript:`, `data:`, `vbscript:`).
const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(HashSet::from(SCHEMES))
            // A relative link in a rule guide would point into the generated site, at nothing.
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"));
        b
    })
}

/// Markdown (CommonMark with tables and strikethrough) to sanitised HTML: no script or style
/// elements, no event-handler attributes, only http(s) and mailto links.
pub fn to_safe_html(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, opts));
    sanitise(&raw)
}

/// Any HTML fragment, cleaned by the same rules as [`to_safe_html`].
pub fn sanitise(html: &str) -> String {
    cleaner().clean(html).to_string()
}

/// `url` when it is an absolute http(s) or mailto URL, else `None` (to be shown as text).
pub fn safe_url(url: &str) -> Option<&str> {
    let u = url.trim();
    // Browsers drop tabs and newlines inside a scheme (`java\tscript:`): refuse them outright.
    if u.chars().any(|c| c.is_control()) {
        return None;
    }
    let (scheme, rest) = u.split_once(':')?;
    let ok = SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s));
    let absolute = scheme.eq_ignore_ascii_case("mailto") || rest.starts_with("//");
    (ok && absolute).then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = to_safe_html(
            "# Guide\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n\
             [click](javascript:alert(3)) [ok](https://example.com/a?b=1)\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("href=\"https://example.com/a?b=1\""),
            "{html}"
        );
        assert!(html.contains("<h1>Guide</h1>"), "{html}");
    }

    #[test]
    fn only_absolute_http_and_mailto_urls_are_links() {
        assert_eq!(safe_url(" https://x.org/ "), Some("https://x.org/"));
        assert_eq!(safe_url("mailto:a@b.c"), Some("mailto:a@b.c"));
        assert_eq!(safe_url("JavaScript:alert(1)"), None);
        assert_eq!(safe_url("java\tscript:alert(1)"), None);
        assert_eq!(safe_url("data:text/html,<script>"), None);
        assert_eq!(safe_url("http:evil"), None);
        assert_eq!(safe_url("/etc/passwd"), None);
    }
}
