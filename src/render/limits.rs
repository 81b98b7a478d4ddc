//! Bounds on what a docs template (which may come with an untrusted pull request) can make the
//! renderer do. tera has no limits of its own: a loop of forty `{% set_global s = s ~ s %}`
//! asks for a terabyte and the process aborts; a macro that calls itself overflows the stack.
//!
//! After the templates are parsed, their syntax trees are instrumented with calls to functions
//! and filters registered here, which charge a per-page [`Budget`]:
//! - every value a `set`/`set_global` stores, every variable joined with `~` and every variable
//!   printed with `{{ }}` is charged by its size, so no value can double past the budget;
//! - filters whose output can be much larger than their input (`join`, `replace`, `indent`,
//!   `split`, `concat`) are charged with the size they would produce before they run, the
//!   escaping ones and `json_encode` (a few times their input at most) with what they produced;
//! - every loop iteration and macro call counts against an iteration budget (nested loops over
//!   the rule list would otherwise run for hours), and macros nest at most [`MACRO_DEPTH`] deep.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tera::ast::{Expr, ExprVal, FunctionCall, Node, WS};

/// Bytes of values one page may store, join and print, in total.
pub(super) const VALUE_BUDGET: usize = 256 << 20;
/// Loop iterations and macro calls of one page.
pub(super) const ITERATION_BUDGET: usize = 10_000_000;
/// How deep macros may call macros.
pub(super) const MACRO_DEPTH: usize = 32;

const CHARGE: &str = "__ruleforge_charge";
const PART: &str = "__ruleforge_part";
const TICK: &str = "__ruleforge_tick";
const ENTER: &str = "__ruleforge_enter";
const LEAVE: &str = "__ruleforge_leave";

/// Filters whose output may be many times the size of their input.
const AMPLIFIERS: &[&str] = &[
    "join",
    "replace",
    "indent",
    "split",
    "concat",
    "linebreaksbr",
    "escape",
    "escape_xml",
    "urlencode",
    "urlencode_strict",
    "addslashes",
    "json_encode",
];

/// What the current page has used. Reset before each page.
#[derive(Debug)]
pub(super) struct Budget {
    bytes: AtomicUsize,
    /// [`VALUE_BUDGET`]; smaller in tests.
    byte_limit: AtomicUsize,
    iterations: AtomicUsize,
    depth: AtomicUsize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            bytes: AtomicUsize::new(0),
            byte_limit: AtomicUsize::new(VALUE_BUDGET),
            iterations: AtomicUsize::new(0),
            depth: AtomicUsize::new(0),
        }
    }
}

impl Budget {
    #[cfg(test)]
    pub(super) fn set_byte_limit(&self, limit: usize) {
        self.byte_limit.store(limit, Ordering::Relaxed);
    }

    pub(super) fn reset(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.iterations.store(0, Ordering::Relaxed);
        self.depth.store(0, Ordering::Relaxed);
    }

    fn charge(&self, bytes: usize) -> tera::Result<()> {
        let used = self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let limit = self.byte_limit.load(Ordering::Relaxed);
        if used.saturating_add(bytes) > limit {
            return Err(tera::Error::msg(format!(
                "the page's values grew past {} KiB (a `set` or `~` that keeps growing?)",
                limit >> 10
            )));
        }
        Ok(())
    }

    fn tick(&self) -> tera::Result<()> {
        if self.iterations.fetch_add(1, Ordering::Relaxed) >= ITERATION_BUDGET {
            return Err(tera::Error::msg(format!(
                "the page ran more than {ITERATION_BUDGET} loop iterations and macro calls"
            )));
        }
        Ok(())
    }
}

/// The memory a value takes, roughly: 32 bytes a `serde_json::Value`, plus its text and
/// elements (and 32 more per object entry for the key and the map's bookkeeping).
fn size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 32,
        Value::Array(a) => a.iter().map(size).sum::<usize>() + 32,
        Value::Object(o) => o.iter().map(|(k, v)| k.len() + 32 + size(v)).sum::<usize>() + 32,
        _ => 32,
    }
}

fn str_arg<'a>(args: &'a HashMap<String, Value>, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or("")
}

/// An upper bound of the bytes `filter` produces from `value`.
fn projected(filter: &str, value: &Value, args: &HashMap<String, Value>) -> usize {
    let text = value.as_str().unwrap_or("");
    match filter {
        "join" => {
            let n = value.as_array().map_or(0, Vec::len);
            size(value).saturating_add(n.saturating_mul(str_arg(args, "sep").len()))
        }
        "replace" => {
            let from = str_arg(args, "from");
            let hits = if from.is_empty() {
                0
            } else {
                text.matches(from).count()
            };
            text.len()
                .saturating_add(hits.saturating_mul(str_arg(args, "to").len()))
        }
        "indent" => {
            let prefix = args
                .get("prefix")
                .and_then(Value::as_str)
                .map_or(4, str::len);
            let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
            text.len().saturating_add(lines.saturating_mul(prefix))
        }
        // One array element (a word or more of bookkeeping) per piece.
        "split" => {
            let pat = str_arg(args, "pat");
            let pieces = if pat.is_empty() {
                text.chars().count()
            } else {
                text.matches(pat).count()
            };
            text.len().saturating_add(pieces.saturating_mul(64))
        }
        "concat" => size(value).saturating_add(args.get("with").map_or(0, size)),
        // The escaping filters and `json_encode` grow their input by a small factor at most
        // (`"` → `&quot;`): charged with what they produced, after they ran.
        _ => 0,
    }
}

/// Registers the budget's functions and filters, and bounded versions of the amplifying
/// filters (the originals, charged with their projected output first).
pub(super) fn register(tera: &mut tera::Tera, budget: &Arc<Budget>) {
    let b = Arc::clone(budget);
    tera.register_filter(CHARGE, move |v: &Value, _: &HashMap<String, Value>| {
        b.charge(size(v))?;
        Ok(v.clone())
    });
    tera.register_function(PART, Part(Arc::clone(budget)));
    let b = Arc::clone(budget);
    tera.register_function(TICK, move |_: &HashMap<String, Value>| {
        b.tick()?;
        Ok(Value::from(""))
    });
    let b = Arc::clone(budget);
    tera.register_function(ENTER, move |_: &HashMap<String, Value>| {
        b.tick()?;
        if b.depth.fetch_add(1, Ordering::Relaxed) >= MACRO_DEPTH {
            return Err(tera::Error::msg(format!(
                "macros call macros more than {MACRO_DEPTH} deep"
            )));
        }
        Ok(Value::from(""))
    });
    let b = Arc::clone(budget);
    tera.register_function(LEAVE, move |_: &HashMap<String, Value>| {
        b.depth.fetch_sub(1, Ordering::Relaxed);
        Ok(Value::from(""))
    });
    let builtins = Arc::new(tera::Tera::default());
    for name in AMPLIFIERS {
        if builtins.get_filter(name).is_ok() {
            tera.register_filter(
                name,
                Bounded {
                    name,
                    builtins: Arc::clone(&builtins),
                    budget: Arc::clone(budget),
                },
            );
        }
    }
}

/// `~` operand: the variable's value, charged. Safe, so that it leaves tera's escaping of the
/// joined string as it was (a `~` of variables is not escaped by tera).
struct Part(Arc<Budget>);

impl tera::Function for Part {
    fn call(&self, args: &HashMap<String, Value>) -> tera::Result<Value> {
        let v = args.get("v").cloned().unwrap_or(Value::Null);
        self.0.charge(size(&v))?;
        Ok(v)
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// A built-in filter charged with the output it may produce before it runs.
struct Bounded {
    name: &'static str,
    builtins: Arc<tera::Tera>,
    budget: Arc<Budget>,
}

impl tera::Filter for Bounded {
    fn filter(&self, value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
        self.budget.charge(projected(self.name, value, args))?;
        let out = self.builtins.get_filter(self.name)?.filter(value, args)?;
        if projected(self.name, value, args) == 0 {
            self.budget.charge(size(&out))?;
        }
        Ok(out)
    }

    fn is_safe(&self) -> bool {
        self.builtins
            .get_filter(self.name)
            .is_ok_and(|f| f.is_safe())
    }
}

/// Instruments every template of `tera` (the bodies tera renders from: the tree, the macros and
/// the block definitions of inheritance chains).
pub(super) fn instrument(tera: &mut tera::Tera) {
    for tpl in tera.templates.values_mut() {
        nodes(&mut tpl.ast);
        for m in tpl.macros.values_mut() {
            macro_body(&mut m.body);
        }
        for b in tpl.blocks.values_mut() {
            nodes(&mut b.body);
        }
        for defs in tpl.blocks_definitions.values_mut() {
            for (_, b) in defs {
                nodes(&mut b.body);
            }
        }
    }
}

fn call(name: &str) -> FunctionCall {
    FunctionCall {
        name: name.to_string(),
        args: HashMap::new(),
    }
}

fn call_node(name: &str) -> Node {
    Node::VariableBlock(WS::default(), Expr::new(ExprVal::FunctionCall(call(name))))
}

fn macro_body(body: &mut Vec<Node>) {
    nodes(body);
    body.insert(0, call_node(ENTER));
    body.push(call_node(LEAVE));
}

fn nodes(list: &mut [Node]) {
    for node in list {
        match node {
            Node::VariableBlock(_, e) => {
                expr(e);
                printed(e);
            }
            Node::Set(_, set) => {
                expr(&mut set.value);
                set.value.filters.push(call(CHARGE));
            }
            Node::MacroDefinition(_, def, _) => macro_body(&mut def.body),
            Node::FilterSection(_, section, _) => {
                section.filter.args.values_mut().for_each(expr);
                nodes(&mut section.body);
            }
            Node::Block(_, block, _) => nodes(&mut block.body),
            Node::Forloop(_, f, _) => {
                expr(&mut f.container);
                nodes(&mut f.body);
                f.body.insert(0, call_node(TICK));
                if let Some(empty) = &mut f.empty_body {
                    nodes(empty);
                }
            }
            Node::If(cond, _) => {
                for (_, e, body) in &mut cond.conditions {
                    expr(e);
                    nodes(body);
                }
                if let Some((_, body)) = &mut cond.otherwise {
                    nodes(body);
                }
            }
            _ => {}
        }
    }
}

/// A printed variable is charged by its size before its filters run. Only variables: a
/// function's result is bounded by the functions themselves, and a macro's output is rendered
/// by its (instrumented) body. The charge goes after a leading `default` (tera looks for it
/// first) and leaves a trailing `safe` last, so escaping is decided as before.
fn printed(e: &mut Expr) {
    if e.negated || !matches!(e.val, ExprVal::Ident(_)) {
        return;
    }
    let at = usize::from(e.has_default_filter());
    e.filters.insert(at, call(CHARGE));
}

fn expr(e: &mut Expr) {
    match &mut e.val {
        ExprVal::StringConcat(concat) => {
            for part in &mut concat.values {
                if let ExprVal::Ident(_) = part {
                    let ident = std::mem::replace(part, ExprVal::Bool(false));
                    let args = HashMap::from([("v".to_string(), Expr::new(ident))]);
                    *part = ExprVal::FunctionCall(FunctionCall {
                        name: PART.to_string(),
                        args,
                    });
                }
            }
        }
        ExprVal::FunctionCall(f) => f.args.values_mut().for_each(expr),
        ExprVal::MacroCall(m) => m.args.values_mut().for_each(expr),
        ExprVal::Array(items) => items.iter_mut().for_each(expr),
        ExprVal::Math(m) => {
            expr(&mut m.lhs);
            expr(&mut m.rhs);
        }
        ExprVal::Logic(l) => {
            expr(&mut l.lhs);
            expr(&mut l.rhs);
        }
        ExprVal::In(i) => {
            expr(&mut i.lhs);
            expr(&mut i.rhs);
        }
        ExprVal::Test(t) => t.args.iter_mut().for_each(expr),
        _ => {}
    }
    for f in &mut e.filters {
        f.args.values_mut().for_each(expr);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Renderer;
    use serde_json::json;

    /// Renders `template` as the page `name` of a template folder, with `cx`, with values
    /// limited to 4 MiB a page (the real budget is reached the same way, only slower in a
    /// debug build).
    fn render(name: &str, template: &str, cx: &serde_json::Value) -> Result<String, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), template).unwrap();
        let r = Renderer::new(Some(dir.path())).map_err(|e| e.to_string())?;
        r.budget.set_byte_limit(4 << 20);
        r.render(name, cx).map_err(|e| e.to_string())
    }

    /// The instrumentation changes no output: escaping, `safe`, `default`, `~`, macros, loops
    /// and `set` render as tera renders them.
    #[test]
    fn instrumented_templates_render_as_before() {
        let cx = json!({"x": "<b>", "n": 2, "items": ["a", "<i>"]});
        let page = concat!(
            "{{ x }}|{{ x | safe }}|{{ missing | default(value=\"d\") }}|{{ x ~ n }}|",
            "{% set y = x ~ \"!\" %}{{ y | length }}|{% for i in items %}{{ i }},{% endfor %}|",
            "{% macro m(v) %}[{{ v }}]{% endmacro m %}{{ self::m(v=x) }}|",
            "{{ items | join(sep=\"+\") }}|{% if not missing %}none{% endif %}",
        );
        let got = render("t.html", page, &cx).unwrap();
        assert_eq!(
            got,
            "&lt;b&gt;|<b>|d|<b>2|4|a,&lt;i&gt;,|[&lt;b&gt;]|a+&lt;i&gt;|none"
        );
        let got = render("t.md", page, &cx).unwrap();
        assert_eq!(got, "<b>|<b>|d|<b>2|4|a,<i>,|[<b>]|a+<i>|none");
    }

    #[test]
    fn a_doubling_value_stops_at_the_budget() {
        let t = "{% set_global s = \"ab\" %}{% for i in range(end=40) %}{% set_global s = s ~ s %}{% endfor %}";
        let err = render("t.md", t, &json!({})).unwrap_err();
        assert!(err.contains("grew past 4096 KiB"), "{err}");
        // Arrays double too: `concat` and array literals.
        let t = "{% set_global a = [1] %}{% for i in range(end=40) %}{% set_global a = a | concat(with=a) %}{% endfor %}";
        assert!(
            render("t.md", t, &json!({}))
                .unwrap_err()
                .contains("grew past")
        );
        let t = "{% set_global a = [1] %}{% for i in range(end=40) %}{% set_global a = [a, a] %}{% endfor %}";
        assert!(
            render("t.md", t, &json!({}))
                .unwrap_err()
                .contains("grew past")
        );
    }

    #[test]
    fn amplifying_filters_are_charged_before_they_run() {
        // 100,000 joins of a 64 KiB separator would be 6 GiB.
        let t = "{% set_global s = \"ab\" %}{% for i in range(end=15) %}{% set_global s = s ~ s %}{% endfor %}{{ range(end=100000) | join(sep=s) | length }}";
        let err = render("t.md", t, &json!({})).unwrap_err();
        assert!(
            err.contains("'join' failed") && err.contains("grew past"),
            "{err}"
        );
        let t = "{{ big | replace(from=\"a\", to=big) | length }}";
        let cx = json!({"big": "a".repeat(1 << 16)});
        assert!(
            render("t.md", t, &cx)
                .unwrap_err()
                .contains("'replace' failed")
        );
        // Within the budget they work as before.
        let t =
            "{{ range(end=3) | join(sep=\"-\") }} {{ \"a b\" | replace(from=\"a\", to=\"c\") }}";
        assert_eq!(render("t.md", t, &json!({})).unwrap(), "0-1-2 c b");
    }

    #[test]
    fn loops_and_macro_recursion_are_bounded() {
        let t = "{% set r = range(end=1000) %}{% for a in r %}{% for b in r %}{% for c in r %}{% endfor %}{% endfor %}{% endfor %}";
        let err = render("t.md", t, &json!({})).unwrap_err();
        assert!(err.contains("more than 10000000 loop iterations"), "{err}");
        let t = "{% macro f(n) %}{{ self::f(n=n+1) }}{% endmacro f %}{{ self::f(n=1) }}";
        let err = render("t.md", t, &json!({})).unwrap_err();
        assert!(err.contains("more than 32 deep"), "{err}");
        // Recursion within the depth works.
        let t = "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ self::f(n=n-1) }}{% endif %}{% endmacro f %}{{ self::f(n=5) }}";
        assert_eq!(render("t.md", t, &json!({})).unwrap(), "54321");
    }
}
