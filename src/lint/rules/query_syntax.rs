use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::query::kql;
use crate::rule::Rule;

declare_lint!(
    EqlSyntax,
    "RF603",
    "eql-syntax",
    Error,
    "The EQL query parses and verifies with Elasticsearch's grammar and rules (unknown \
functions, unsupported pipes, comparisons between two fields and other verifier failures are \
rejected as Elasticsearch rejects them). The error points at the column inside the rule file."
);

impl Lint for EqlSyntax {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let (Some(q), Some(Err(e))) = (&rule.query, cx.eql()) else {
            return;
        };
        let (message, span) = (format!("EQL: {}", e.message), q.file_span(&e.span));
        cx.report(message, span);
    }
}

declare_lint!(
    KqlSyntax,
    "RF601",
    "kql-syntax",
    Error,
    "The KQL (`language = \"kuery\"`) query parses with Kibana's grammar; `threat_query` too when \
`threat_language = \"kuery\"`. The error points at the column inside the rule file."
);

impl Lint for KqlSyntax {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if rule.language.as_deref() == Some("kuery") {
            if let Some(q) = &rule.query {
                if let Err(e) = kql::parse(&q.text) {
                    cx.report(format!("KQL: {}", e.message), q.file_span(&e.span));
                }
            }
        }
        if rule.tree.str_at("rule.threat_language") == Some("kuery") {
            if let Some(node) = rule.tree.path("rule.threat_query") {
                if let Some(text) = node.as_str() {
                    if let Err(e) = kql::parse(text) {
                        let span = crate::rule::tree::string_content_offset(&rule.text, &node.span)
                            .map(|off| off + e.span.start..off + e.span.end)
                            .unwrap_or_else(|| node.span.clone());
                        cx.report(format!("KQL threat_query: {}", e.message), span);
                    }
                }
            }
        }
    }
}

declare_lint!(
    EsqlSyntax,
    "RF602",
    "esql-syntax",
    Error,
    "The ES|QL (`language = \"esql\"`) query parses with Elasticsearch's grammar. Replay also \
resolves it (unknown columns, type errors) and reports those with this code. The error points \
at the column inside the rule file."
);

impl Lint for EsqlSyntax {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if rule.language.as_deref() != Some("esql") {
            return;
        }
        if let Some(q) = &rule.query {
            if let Err(e) = crate::query::esql::parse(&q.text) {
                cx.report(format!("ES|QL: {}", e.message), q.file_span(&e.span));
            }
        }
    }
}
