//! Token-soup fuzzing: random sequences of EQL tokens must parse, compile and run without
//! panicking (errors are fine). Deterministic (fixed seed) so failures reproduce.

use ruleforge::query::eql::{self, FlatEvent, Options};
use serde_json::json;

const VOCAB: &[&str] = &[
    "process",
    "any",
    "where",
    "sequence",
    "sample",
    "by",
    "with",
    "maxspan",
    "=",
    "5s",
    "runs",
    "3",
    "until",
    "[",
    "]",
    "![",
    "(",
    ")",
    ",",
    "|",
    "head",
    "tail",
    "and",
    "or",
    "not",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    ":",
    "in",
    "in~",
    "like",
    "like~",
    "regex",
    "regex~",
    "+",
    "-",
    "*",
    "/",
    "%",
    "true",
    "false",
    "null",
    "a",
    "b.c",
    "?d",
    "`e f`",
    "\"x\"",
    "\"*y?\"",
    "\"\"\"C:\\z\"\"\"",
    "\"[a-c]+\"",
    "\"10.0.0.0/8\"",
    "0",
    "1",
    "2.5",
    "-1",
    "length(",
    "startsWith~(",
    "cidrMatch(",
    "substring(",
    "number(",
    "concat(",
    "between(",
    "indexOf(",
    "string(",
    "divide(",
    "modulo(",
    "stringContains(",
    "endsWith(",
    "add(",
    "\"\\u{41}\"",
];

#[test]
fn token_soup_never_panics() {
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let events = vec![
        json!({"@timestamp": 1, "event": {"category": "process"}, "a": "x", "b": {"c": [1, 2]}, "d": "10.1.1.1"}),
        json!({"@timestamp": 2, "event": {"category": ["process", "file"]}, "a": 5, "e f": "*y?"}),
        json!({"@timestamp": 3, "a": ["x", "y"], "b.c": "C:\\z"}),
    ];
    let (mut ok, mut errors) = (0, 0);
    for i in 0..20_000 {
        let prefix = match i % 4 {
            0 => "process where ",
            1 => "sequence [process where ",
            2 => "any where ",
            _ => "",
        };
        let n = 1 + (next() % 14) as usize;
        let mut q = String::from(prefix);
        for _ in 0..n {
            q.push_str(VOCAB[(next() % VOCAB.len() as u64) as usize]);
            q.push(' ');
        }
        match eql::parse(&q).and_then(|p| p.compile(&Options::default())) {
            Ok(c) => {
                let _ = c.execute(&events);
                for e in &events {
                    let _ = c.matches(e);
                }
                ok += 1;
            }
            Err(_) => errors += 1,
        }
    }
    println!("token soup: {ok} queries ran, {errors} rejected");
    assert!(ok > 100, "the generator should produce some valid queries");
}

struct Gen(u64);

impl Gen {
    fn n(&mut self, k: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % k as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.n(xs.len())]
    }

    fn field(&mut self) -> String {
        self.pick(&[
            "a",
            "b.c",
            "?d",
            "n",
            "ip",
            "missing",
            "?missing.x",
            "`e f`",
        ])
        .to_string()
    }

    fn lit(&mut self) -> String {
        self.pick(&[
            "\"x\"",
            "\"X*\"",
            "\"?\"",
            "1",
            "-2",
            "2.5",
            "null",
            "true",
            "\"\"",
            "\"10.0.0.0/8\"",
            "\"é\"",
        ])
        .to_string()
    }

    fn value(&mut self, depth: usize) -> String {
        if depth == 0 {
            return if self.n(2) == 0 {
                self.field()
            } else {
                self.lit()
            };
        }
        match self.n(6) {
            0 => format!(
                "{} {} {}",
                self.value(depth - 1),
                self.pick(&["+", "-", "*", "/", "%"]),
                self.lit()
            ),
            1 => format!("length({})", self.value(depth - 1)),
            2 => format!(
                "substring({}, {}, {})",
                self.value(depth - 1),
                self.lit(),
                self.lit()
            ),
            3 => format!("concat({}, {})", self.value(depth - 1), self.lit()),
            4 => format!("string({})", self.value(depth - 1)),
            _ => self.field(),
        }
    }

    fn cond(&mut self, depth: usize) -> String {
        if depth == 0 {
            return match self.n(8) {
                0 => format!(
                    "{} {} {}",
                    self.value(1),
                    self.pick(&["==", "!=", "<", "<=", ">", ">="]),
                    self.lit()
                ),
                1 => format!(
                    "{} {} ({}, {})",
                    self.field(),
                    self.pick(&["in", "not in", "in~", "not in~"]),
                    self.lit(),
                    self.lit()
                ),
                2 => format!(
                    "{} {} ({}, {})",
                    self.value(1),
                    self.pick(&[":", "like", "like~", "regex", "regex~"]),
                    self.pick(&["\"x*\"", "\"[a-z]+\""]),
                    self.pick(&["\"?\"", "\"é.*\""])
                ),
                3 => format!(
                    "{}({}, {})",
                    self.pick(&["startsWith", "endsWith~", "stringContains", "cidrMatch"]),
                    self.field(),
                    self.pick(&["\"x\"", "\"10.0.0.0/8\""])
                ),
                4 => format!("null == ({} > {})", self.field(), self.lit()),
                5 => self.pick(&["true", "false"]).to_string(),
                6 => format!("{} == {}", self.field(), self.field()),
                _ => format!("{} != null", self.field()),
            };
        }
        match self.n(4) {
            0 => format!("({} and {})", self.cond(depth - 1), self.cond(depth - 1)),
            1 => format!("({} or {})", self.cond(depth - 1), self.cond(depth - 1)),
            2 => format!("not {}", self.cond(depth - 1)),
            _ => self.cond(0),
        }
    }

    fn query(&mut self) -> String {
        let cat = self.pick(&["process", "any", "file", "\"process\""]);
        match self.n(4) {
            0 | 1 => format!(
                "{cat} where {}{}",
                self.cond(3),
                self.pick(&["", " | head 2", " | tail 1"])
            ),
            2 => format!(
                "sequence by {} {} [{cat} where {}] [any where {}] {}",
                self.field(),
                self.pick(&["", "with maxspan=1s"]),
                self.cond(2),
                self.cond(2),
                self.pick(&["", "until [file where true]"])
            ),
            _ => format!(
                "sample by {} [{cat} where {}] [any where {}]",
                self.field(),
                self.cond(2),
                self.cond(2)
            ),
        }
    }
}

#[test]
fn generated_queries_never_panic() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let events = vec![
        json!({"@timestamp": 1, "event": {"category": "process"}, "a": "x", "b": {"c": [1, 2]}, "d": "10.1.1.1", "n": 3}),
        json!({"@timestamp": 2, "event": {"category": ["process", "file"]}, "a": 5, "e f": "é", "n": "4"}),
        json!({"@timestamp": 3, "a": ["x", "y"], "b.c": "X1", "ip": "10.0.0.1", "n": [1, 2.5]}),
    ];
    let (mut ok, mut errors) = (0, 0);
    for _ in 0..5_000 {
        let q = g.query();
        match eql::parse(&q).and_then(|p| p.compile(&Options::default())) {
            Ok(c) => {
                let _ = c.execute(&events);
                for e in &events {
                    assert_eq!(
                        c.matches(e),
                        c.matches_event(&FlatEvent::new(e)),
                        "tree walk and flattened event disagree on {q} for {e}"
                    );
                }
                ok += 1;
            }
            Err(_) => errors += 1,
        }
    }
    println!("generated: {ok} queries ran, {errors} rejected");
    assert!(ok > 1_000, "most generated queries should be valid: {ok}");
}
