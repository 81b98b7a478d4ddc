//! Markdown structure of guides, read with a real CommonMark parser (headings inside code
//! fences are not headings).

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    /// Byte range in the Markdown source.
    pub range: Range<usize>,
}

pub fn headings(md: &str) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut current: Option<Heading> = None;
    for (event, range) in Parser::new(md).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some(Heading {
                    level: heading_level(level),
                    text: String::new(),
                    range,
                });
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = current.as_mut() {
                    h.text.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(mut h) = current.take() {
                    h.text = h.text.trim().to_string();
                    out.push(h);
                }
            }
            _ => {}
        }
    }
    out
}

/// Inline code spans (backticked tokens) with their byte ranges.
pub fn code_spans(md: &str) -> Vec<(String, Range<usize>)> {
    Parser::new(md)
        .into_offset_iter()
        .filter_map(|(e, r)| match e {
            Event::Code(t) => Some((t.to_string(), r)),
            _ => None,
        })
        .collect()
}

fn heading_level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_ignore_code_fences() {
        let md = "## Triage\n\n```sh\n# not a heading\n```\n\n### Investigating X\n";
        let hs = headings(md);
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[1].level, 3);
        assert_eq!(hs[1].text, "Investigating X");
        assert!(md[hs[1].range.clone()].starts_with("### Investigating"));
    }
}
