//! `MV_*` functions over multi-values.

use super::eval::Ctx;
use super::types::{DataType, Value, cmp_scalar, to_text};
use std::cmp::Ordering;

type R = Result<Value, String>;

pub fn count(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(match a[0].items().len() {
        0 => Value::Null,
        n => Value::Int(n as i64),
    })
}
pub fn first(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(a[0].items().first().cloned().unwrap_or(Value::Null))
}
pub fn last(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(a[0].items().last().cloned().unwrap_or(Value::Null))
}
fn ext(a: &Value, ty: DataType, want: Ordering) -> Value {
    let mut best: Option<&Value> = None;
    for v in a.items() {
        if best.is_none_or(|b| cmp_scalar(v, b, ty) == want) {
            best = Some(v);
        }
    }
    best.cloned().unwrap_or(Value::Null)
}
pub fn min(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    Ok(ext(&a[0], t[0], Ordering::Less))
}
pub fn max(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    Ok(ext(&a[0], t[0], Ordering::Greater))
}
pub fn dedupe(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let mut out: Vec<Value> = Vec::new();
    for v in a[0].items() {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::from_vec(out))
}
pub fn sum(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    let items = a[0].items();
    if items.is_empty() {
        return Ok(Value::Null);
    }
    match t[0] {
        DataType::Double => Ok(Value::Double(items.iter().filter_map(Value::as_f64).sum())),
        DataType::UnsignedLong => {
            let mut s = 0u64;
            for v in items {
                if let Value::ULong(u) = v {
                    s = s
                        .checked_add(*u)
                        .ok_or("java.lang.ArithmeticException: unsigned_long overflow")?;
                }
            }
            Ok(Value::ULong(s))
        }
        ty => {
            let mut s = 0i64;
            for v in items {
                if let Value::Int(i) = v {
                    s = s.checked_add(*i).ok_or_else(|| {
                        format!("java.lang.ArithmeticException: {} overflow", ty.name())
                    })?;
                }
            }
            if ty == DataType::Integer && i32::try_from(s).is_err() {
                return Err("java.lang.ArithmeticException: integer overflow".into());
            }
            Ok(Value::Int(s))
        }
    }
}
pub fn avg(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let items = a[0].items();
    if items.is_empty() {
        return Ok(Value::Null);
    }
    Ok(Value::Double(
        items.iter().filter_map(Value::as_f64).sum::<f64>() / items.len() as f64,
    ))
}
pub fn median(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    let mut items: Vec<Value> = a[0].items().to_vec();
    if items.is_empty() {
        return Ok(Value::Null);
    }
    items.sort_by(|x, y| cmp_scalar(x, y, t[0]));
    let n = items.len();
    if n % 2 == 1 {
        return Ok(items[n / 2].clone());
    }
    let (x, y) = (&items[n / 2 - 1], &items[n / 2]);
    Ok(match (x, y) {
        (Value::Int(p), Value::Int(q)) => {
            Value::Int(((i128::from(*p) + i128::from(*q)) / 2) as i64)
        }
        (Value::ULong(p), Value::ULong(q)) => {
            Value::ULong(((u128::from(*p) + u128::from(*q)) / 2) as u64)
        }
        _ => Value::Double((x.as_f64().unwrap_or(0.0) + y.as_f64().unwrap_or(0.0)) / 2.0),
    })
}
pub fn sort(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    let mut items: Vec<Value> = a[0].items().to_vec();
    let desc = match a.get(1) {
        None => false,
        Some(Value::Str(o)) if o.eq_ignore_ascii_case("asc") => false,
        Some(Value::Str(o)) if o.eq_ignore_ascii_case("desc") => true,
        Some(o) => {
            return Err(format!(
                "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Invalid order value in [mv_sort], expected one of [ASC, DESC] but got [{}]",
                to_text(o)
            ));
        }
    };
    items.sort_by(|x, y| cmp_scalar(x, y, t[0]));
    if desc {
        items.reverse();
    }
    Ok(Value::from_vec(items))
}
pub fn slice(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let items = a[0].items();
    let n = items.len() as i64;
    let idx = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        _ => None,
    };
    let Some(mut s) = idx(&a[1]) else {
        return Ok(Value::Null);
    };
    let mut e = match a.get(2) {
        None => s,
        Some(v) => match idx(v) {
            Some(e) => e,
            None => return Ok(Value::Null),
        },
    };
    if s < 0 {
        s += n;
    }
    if e < 0 {
        e += n;
    }
    if s > e {
        return Err("org.elasticsearch.xpack.esql.core.InvalidArgumentException: Start offset is greater than end offset".into());
    }
    let s = s.max(0);
    let e = e.min(n - 1);
    if s > e || s >= n {
        return Ok(Value::Null);
    }
    Ok(Value::from_vec(items[s as usize..=e as usize].to_vec()))
}
pub fn concat(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    if a[0].is_null() || a[1].is_null() {
        return Ok(Value::Null);
    }
    let delim = to_text(&a[1]);
    let parts: Vec<String> = a[0].items().iter().map(to_text).collect();
    Ok(Value::Str(parts.join(&delim)))
}
pub fn contains(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    let sup = a[0].items();
    Ok(Value::Bool(a[1].items().iter().all(|x| {
        sup.iter().any(|y| {
            cmp_scalar(x, y, t[0]) == Ordering::Equal
                && std::mem::discriminant(x) == std::mem::discriminant(y)
        })
    })))
}
pub fn append(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    if a[0].is_null() || a[1].is_null() {
        return Ok(Value::Null);
    }
    let mut v = a[0].items().to_vec();
    v.extend(a[1].items().iter().cloned());
    Ok(Value::from_vec(v))
}
pub fn intersection(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let b = a[1].items();
    let mut out: Vec<Value> = Vec::new();
    for x in a[0].items() {
        if b.contains(x) && !out.contains(x) {
            out.push(x.clone());
        }
    }
    Ok(Value::from_vec(out))
}
pub fn union(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let mut out: Vec<Value> = Vec::new();
    for x in a[0].items().iter().chain(a[1].items()) {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    Ok(Value::from_vec(out))
}
pub fn zip(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    if a.get(2).is_some_and(Value::is_null) {
        return Ok(Value::Null);
    }
    let delim = a.get(2).map_or(",".to_string(), to_text);
    let (x, y) = (a[0].items(), a[1].items());
    if x.is_empty() && y.is_empty() {
        return Ok(Value::Null);
    }
    let n = x.len().max(y.len());
    let out = (0..n)
        .map(|i| {
            let parts: Vec<String> = [x.get(i), y.get(i)]
                .into_iter()
                .flatten()
                .map(to_text)
                .collect();
            Value::Str(parts.join(&delim))
        })
        .collect();
    Ok(Value::from_vec(out))
}

fn any_match(a: &[Value], re: Result<regex::Regex, String>) -> R {
    if a[1].is_null() {
        return Ok(Value::Null);
    }
    let re = re.map_err(|e| format!("java.lang.IllegalArgumentException: {e}"))?;
    if a[0].is_null() {
        return Ok(Value::Null);
    }
    Ok(Value::Bool(
        a[0].items()
            .iter()
            .any(|v| v.as_str().is_some_and(|s| re.is_match(s))),
    ))
}

/// `MV_LIKE(field, pattern)`: whether any value matches the LIKE pattern.
pub fn like(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let p = a[1].as_str().unwrap_or("");
    any_match(a, super::functions::like_regex(p))
}

/// `MV_RLIKE(field, pattern)`: whether any value matches the regular expression.
pub fn rlike(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let p = a[1].as_str().unwrap_or("");
    any_match(a, super::functions::lucene_regex(p))
}
