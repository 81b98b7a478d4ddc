//! The HTML docs site (`ruleforge docs --out DIR`): rule content is inert in every page, the
//! whole Elastic corpus renders, and (with Chromium) the site works in a real browser.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::*;
use std::path::Path;

const HOSTILE_NAME: &str = "Kernel <script>alert('name')</script><img src=x onerror=alert(1)>";

/// Puts `<script>`, event handlers and `javascript:` links into every text field of a rule.
fn make_hostile(root: &Path) {
    let path = root.join("rules/linux/discovery_kernel_unpacking.toml");
    let mut doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let rule = doc["rule"].as_table_mut().unwrap();
    rule.insert("name".into(), HOSTILE_NAME.into());
    rule.insert(
        "description".into(),
        "Desc <script>alert('desc')</script> <a href=\"javascript:alert(2)\" onclick=\"alert(3)\">x</a>"
            .into(),
    );
    let guide = "## Triage and analysis\n\n<script>alert('guide')</script>\n\n\
        <img src=x onerror=\"alert(4)\"> <div onmouseover=\"alert(5)\">hover</div>\n\n\
        [click me](javascript:alert(6)) [data](data:text/html,<script>alert(7)</script>) \
        <a href=\"JaVaScRiPt:alert(8)\">raw</a> <iframe src=\"javascript:alert(9)\"></iframe>\n\n\
        <svg onload=alert(10)></svg> <form action=\"javascript:alert(11)\"><button formaction=\"javascript:alert(12)\">b</button></form>\n";
    rule.insert("note".into(), guide.into());
    rule.insert(
        "setup".into(),
        guide.replace("Triage and analysis", "Setup").into(),
    );
    rule.insert(
        "references".into(),
        toml::Value::Array(vec![
            "javascript:alert(13)".into(),
            " java\tscript:alert(14)".into(),
            "https://example.com/ok".into(),
        ]),
    );
    rule.insert(
        "false_positives".into(),
        toml::Value::Array(vec!["<script>alert('fp')</script>".into()]),
    );
    let threat = rule["threat"].as_array_mut().unwrap();
    let tactic = threat[0]["tactic"].as_table_mut().unwrap();
    tactic.insert("reference".into(), "javascript:alert(15)".into());
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
}

fn html_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect()
}

/// Every way a page could run script: returns what it found, by file.
fn executable_content(path: &Path) -> Vec<String> {
    let doc = scraper::Html::parse_document(&std::fs::read_to_string(path).unwrap());
    let mut found = Vec::new();
    let all = scraper::Selector::parse("*").unwrap();
    for el in doc.select(&all) {
        let v = el.value();
        for (name, value) in v.attrs() {
            if name.to_ascii_lowercase().starts_with("on") {
                found.push(format!("<{}> event handler {name}={value:?}", v.name()));
            }
            let url: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            let is_url = matches!(
                name,
                "href" | "src" | "action" | "formaction" | "xlink:href" | "data"
            );
            if is_url
                && ["javascript:", "data:", "vbscript:"]
                    .iter()
                    .any(|s| url.starts_with(s))
            {
                found.push(format!("<{}> {name}={value:?}", v.name()));
            }
        }
        match v.name() {
            "script" => {
                // Only the site's own scripts, loaded from its own files, with no inline body.
                let src = v.attr("src").unwrap_or("");
                let body: String = el.text().collect();
                if !["search-index.js", "assets/site.js"].contains(&src) || !body.trim().is_empty()
                {
                    found.push(format!("<script src={src:?}>{body}</script>"));
                }
            }
            "iframe" | "object" | "embed" | "svg" | "base" => {
                found.push(format!("<{}> element", v.name()));
            }
            "form" if v.attr("action").is_some() => found.push("<form action>".into()),
            "meta" if v.attr("http-equiv").is_some() => found.push("<meta http-equiv>".into()),
            _ => {}
        }
    }
    found
        .into_iter()
        .map(|f| format!("{}: {f}", path.display()))
        .collect()
}

#[test]
fn hostile_rule_content_is_inert_in_every_html_page() {
    let dir = scratch_copy();
    make_hostile(dir.path());
    let site = dir.path().join("site");
    let res = run(dir.path(), &["docs", "--out", site.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));

    let pages = html_files(&site);
    assert!(pages.len() >= 7, "{pages:?}");
    let found: Vec<String> = pages.iter().flat_map(|p| executable_content(p)).collect();
    assert!(found.is_empty(), "{found:#?}");

    // The hostile text is there, as text: escaped, not dropped.
    let page = site.join("discovery_kernel_unpacking.html");
    let doc = scraper::Html::parse_document(&std::fs::read_to_string(&page).unwrap());
    let h1 = scraper::Selector::parse("h1").unwrap();
    let title: String = doc.select(&h1).next().unwrap().text().collect();
    assert_eq!(title, HOSTILE_NAME);
    let text_of = |sel: &str| -> String {
        let s = scraper::Selector::parse(sel).unwrap();
        doc.select(&s).flat_map(|e| e.text()).collect()
    };
    assert!(text_of("p.description").contains("<script>alert('desc')</script>"));
    assert!(
        text_of("div.md").contains("hover"),
        "the guide was rendered"
    );
    // The safe reference stays a link; the javascript: ones are shown as text only.
    let refs = scraper::Selector::parse("ul.refs a").unwrap();
    let hrefs: Vec<&str> = doc
        .select(&refs)
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(hrefs, ["https://example.com/ok"]);
    assert!(text_of("ul.refs").contains("javascript:alert(13)"));

    // The search index is a script file: rule text in it cannot close a <script> element.
    let js = std::fs::read_to_string(site.join("search-index.js")).unwrap();
    assert!(!js.contains('<'), "{}", &js[..js.len().min(400)]);
    assert!(js.contains("\\u003cscript>alert('name')"));
    // The index page lists the rule by its escaped name.
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("Kernel &lt;script&gt;alert("),
        "escaped in the index"
    );
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn the_whole_elastic_corpus_renders_as_a_site() {
    let corpus = project().join("../shared/corpus/elastic-detection-rules");
    let rules = ruleforge::rule::Collection::load_dirs(&[
        corpus.join("rules"),
        corpus.join("rules_building_block"),
    ])
    .unwrap();
    assert_eq!(rules.rules.len(), 2192);
    let published = rules.rules.iter().filter(|r| !r.is_deprecated()).count();
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let started = std::time::Instant::now();
    let res = run(&corpus, &["-q", "docs", "--out", site.to_str().unwrap()]);
    // Reported, not asserted: the speed is measured by a timed command (see the README).
    println!(
        "corpus site: {published} rule pages in {:.2?}",
        started.elapsed()
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("search-index.json")).unwrap())
            .unwrap();
    assert_eq!(index["rules"].as_array().unwrap().len(), published);
    for entry in index["rules"].as_array().unwrap() {
        let page = entry["page"].as_str().unwrap();
        assert!(site.join(page).is_file(), "{page}");
    }
    let matrix = std::fs::read_to_string(site.join("matrix.html")).unwrap();
    assert!(matrix.contains("Credential Access"));
    let layer: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(site.join("attack-navigator-layer.json")).unwrap(),
    )
    .unwrap();
    assert!(layer["techniques"].as_array().unwrap().len() > 100);
}

/// The browser: `RULEFORGE_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH.
fn chromium() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::var_os("RULEFORGE_CHROMIUM")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(
            std::env::split_paths(&path)
                .flat_map(|d| [d.join("chromium"), d.join("chromium-browser")]),
        )
        .find(|p| p.is_file())
}

/// Loads `url` in headless Chromium; returns the DOM after the page's scripts ran, and the
/// browser's log (console messages and script errors go there).
fn dump_dom(browser: &Path, profile: &Path, url: &str) -> (String, String) {
    let res = std::process::Command::new(browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
        ])
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .expect("run chromium");
    assert!(res.status.success(), "{}", text(&res.stderr));
    (text(&res.stdout), text(&res.stderr))
}

#[test]
#[cfg_attr(
    chromium_absent,
    ignore = "needs Chromium (apt-get install chromium); outside CI this browser test did not run"
)]
fn the_site_works_in_headless_chromium() {
    let Some(browser) = chromium() else {
        panic!("CI is set and Chromium is missing: the browser test cannot run");
    };
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let res = run(&project(), &["docs", "--out", site.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let profile = out.path().join("profile");
    let url = |page: &str| format!("file://{}/{page}", site.display());

    // The search reads ?q= from the URL: the DOM shows the filtered list.
    let (dom, log) = dump_dom(&browser, &profile, &url("index.html?q=kernel"));
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console output: {console:#?}");
    let doc = scraper::Html::parse_document(&dom);
    let rows = scraper::Selector::parse("table#rules tbody tr[data-page]").unwrap();
    let (shown, hidden): (Vec<_>, Vec<_>) = doc
        .select(&rows)
        .partition(|tr| tr.value().attr("hidden").is_none());
    let shown: Vec<&str> = shown
        .iter()
        .filter_map(|tr| tr.value().attr("data-page"))
        .collect();
    assert!(
        shown.contains(&"discovery_kernel_unpacking.html"),
        "{shown:?}"
    );
    assert!(!hidden.is_empty(), "the search hid nothing: {shown:?}");
    let count = scraper::Selector::parse("#count").unwrap();
    let count: String = doc.select(&count).next().unwrap().text().collect();
    // The script ran: it wrote the count of what it kept.
    assert_eq!(
        count,
        format!(
            "{} of {} rules match.",
            shown.len(),
            shown.len() + hidden.len()
        )
    );
    let (dom, _) = dump_dom(
        &browser,
        &profile,
        &url("index.html?q=no-such-rule-anywhere"),
    );
    assert!(
        dom.contains("0 of "),
        "a search with no match hides every rule"
    );

    // Every link of the matrix resolves to a file of the site.
    let (dom, log) = dump_dom(&browser, &profile, &url("matrix.html"));
    assert!(!log.contains("Uncaught"), "{log}");
    let doc = scraper::Html::parse_document(&dom);
    let links = scraper::Selector::parse("a[href]").unwrap();
    let mut local = 0;
    for a in doc.select(&links) {
        let href = a.value().attr("href").unwrap();
        if href.contains("://") || href.starts_with("mailto:") {
            continue;
        }
        let file = href.split(['?', '#']).next().unwrap();
        assert!(
            site.join(file).is_file(),
            "matrix link {href} resolves to nothing"
        );
        local += 1;
    }
    assert!(local > 5, "{local} local links in the matrix");
}

#[test]
fn project_templates_and_assets_override_the_built_in_ones_and_stay_escaped() {
    let dir = scratch_copy();
    make_hostile(dir.path());
    let templates = dir.path().join("docs-templates");
    std::fs::create_dir_all(templates.join("assets")).unwrap();
    std::fs::write(
        templates.join("rule.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>Custom: {{ rule.name }}</h1>\
         {% if rule.references %}<a href=\"{{ rule.references[0] | safe_url }}\">first reference</a>\
         {% endif %}{% endblock content %}",
    )
    .unwrap();
    std::fs::write(templates.join("assets/site.css"), "body { color: teal; }").unwrap();
    let site = dir.path().join("site");
    let res = run(dir.path(), &["docs", "--out", site.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let page = std::fs::read_to_string(site.join("discovery_kernel_unpacking.html")).unwrap();
    assert!(page.contains("<h1>Custom: Kernel &lt;script&gt;"), "{page}");
    assert!(page.contains("<a href=\"\">first reference</a>"), "{page}");
    assert_eq!(
        std::fs::read_to_string(site.join("assets/site.css")).unwrap(),
        "body { color: teal; }"
    );
    // The built-in script is still written beside the project's stylesheet.
    assert!(site.join("assets/site.js").is_file());
    assert!(executable_content(&site.join("discovery_kernel_unpacking.html")).is_empty());
}

#[test]
fn the_html_site_replaces_its_previous_run_and_refuses_a_foreign_directory() {
    let dir = scratch_copy();
    let site = dir.path().join("site");
    let docs = |out: &Path| run(dir.path(), &["docs", "--out", out.to_str().unwrap()]);
    assert_eq!(docs(&site).status.code(), Some(0));
    std::fs::remove_file(
        dir.path()
            .join("rules/linux/credential_access_kallsyms_read.toml"),
    )
    .unwrap();
    assert_eq!(docs(&site).status.code(), Some(0));
    assert!(!site.join("credential_access_kallsyms_read.html").exists());
    assert!(site.join("discovery_kernel_unpacking.html").is_file());

    let foreign = dir.path().join("home");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let res = docs(&foreign);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res.stderr));
    assert!(
        text(&res.stderr).contains(".ruleforge-docs"),
        "{}",
        text(&res.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "mine"
    );
}
