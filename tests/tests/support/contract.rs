//! `../shared/CONTRACT.md` read as the outside world reads it: the shapes it writes for the
//! merchant server API's answers (`**Order**: `{ … }``), parsed from its own text, so a test can
//! hold a real answer against them.

use paylater_harness::paths;
use serde_json::Value;

/// A shape as the contract writes it: `{ a, b: [{ c }], d: { e } }`. `{…}` means "as the one
/// before" and checks nothing further.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Any,
    Object(Vec<(String, Shape)>),
    List(Box<Shape>),
}

/// The contract's text.
pub fn text() -> String {
    let path = paths::workspace_root().join("../shared/CONTRACT.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The shape after `**{label}**` and before its closing backtick, e.g. `Order` or
/// `Reconciliation** (JSON)`.
pub fn shape(label: &str) -> Shape {
    let text = text();
    let start = text
        .find(&format!("**{label}"))
        .unwrap_or_else(|| panic!("CONTRACT.md has no **{label}"));
    let after = &text[start..];
    let open = after.find('`').unwrap() + 1;
    let close = open + after[open..].find('`').unwrap();
    let written: String = after[open..close].split_whitespace().collect::<Vec<_>>().join(" ");
    let mut parser = Parser {
        chars: written.chars().collect(),
        at: 0,
    };
    let shape = parser.value();
    assert_eq!(parser.at, parser.chars.len(), "trailing text in {written}");
    shape
}

/// The values the contract lists after `` `{field}` ∈ ``, e.g. the order statuses.
pub fn listed_values(field: &str) -> Vec<String> {
    let text = text();
    let marker = format!("`{field}` ∈ ");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("CONTRACT.md lists no {field}"))
        + marker.len();
    let sentence = &text[start..start + text[start..].find('.').unwrap()];
    sentence
        .split(',')
        .map(|item| item.trim().trim_matches('`').to_owned())
        .collect()
}

/// Every field the contract names is in `value`, at every level and in every list item.
pub fn assert_has_shape(value: &Value, shape: &Shape, at: &str) {
    match shape {
        Shape::Any => {}
        Shape::Object(fields) => {
            let object = value
                .as_object()
                .unwrap_or_else(|| panic!("{at}: the contract writes an object, the answer has {value}"));
            for (name, inner) in fields {
                let field = object
                    .get(name)
                    .unwrap_or_else(|| panic!("{at}.{name}: named by the contract, missing from {value}"));
                assert_has_shape(field, inner, &format!("{at}.{name}"));
            }
        }
        Shape::List(item) => {
            let items = value
                .as_array()
                .unwrap_or_else(|| panic!("{at}: the contract writes a list, the answer has {value}"));
            assert!(!items.is_empty(), "{at}: an empty list checks nothing");
            for (index, element) in items.iter().enumerate() {
                assert_has_shape(element, item, &format!("{at}[{index}]"));
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.at) == Some(&' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, expected: char) -> bool {
        self.skip_spaces();
        let found = self.chars.get(self.at) == Some(&expected);
        if found {
            self.at += 1;
        }
        found
    }

    fn value(&mut self) -> Shape {
        self.skip_spaces();
        if self.eat('[') {
            let item = self.value();
            assert!(self.eat(']'), "unclosed [ at {}", self.at);
            return Shape::List(Box::new(item));
        }
        assert!(self.eat('{'), "expected {{ at {} of {:?}", self.at, self.rest());
        if self.eat('…') {
            assert!(self.eat('}'));
            return Shape::Any;
        }
        let mut fields = Vec::new();
        loop {
            self.skip_spaces();
            let start = self.at;
            while self
                .chars
                .get(self.at)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                self.at += 1;
            }
            let name: String = self.chars[start..self.at].iter().collect();
            assert!(!name.is_empty(), "expected a field name at {:?}", self.rest());
            // `approval_token?`: a field the answer may leave out.
            let optional = self.eat('?');
            let inner = if self.eat(':') { self.value() } else { Shape::Any };
            if !optional {
                fields.push((name, inner));
            }
            if self.eat('}') {
                return Shape::Object(fields);
            }
            assert!(self.eat(','), "expected , or }} at {:?}", self.rest());
        }
    }

    fn rest(&self) -> String {
        self.chars[self.at..].iter().collect()
    }
}
