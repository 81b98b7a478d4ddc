//! Type conversions: the `TO_*` functions and the `::` cast, element by element over
//! multi-values, invalid elements dropped with a warning.

use super::types::{DataType, Value, java_double, parse_date, parse_ip, to_text};

/// Converts one scalar to `to`; `Err` is the exception text for the warning.
pub(crate) fn convert_scalar(v: &Value, from: DataType, to: DataType) -> Result<Value, String> {
    use DataType as T;
    match (to, v) {
        (_, Value::Null) => Ok(Value::Null),
        (T::Keyword | T::Text, v) => Ok(Value::Str(to_text(v))),
        (T::Version, Value::Str(s)) => Ok(Value::Str(s.clone())),
        (T::Boolean, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (T::Boolean, Value::Str(s)) => Ok(Value::Bool(s.eq_ignore_ascii_case("true"))),
        (T::Boolean, Value::Int(i)) => Ok(Value::Bool(*i != 0)),
        (T::Boolean, Value::ULong(u)) => Ok(Value::Bool(*u != 0)),
        (T::Boolean, Value::Double(d)) => Ok(Value::Bool(*d != 0.0)),
        (T::Integer | T::Long, Value::Int(i)) => range_int(*i as f64, *i, to),
        (T::Integer | T::Long, Value::ULong(u)) => {
            let i = i64::try_from(*u).map_err(|_| out_of_range(&u.to_string(), to))?;
            range_int(i as f64, i, to)
        }
        (T::Integer | T::Long, Value::Double(d)) => {
            let r = d.round();
            if !d.is_finite() || r < i64::MIN as f64 || r >= i64::MAX as f64 {
                return Err(out_of_range(&java_double(*d), to));
            }
            range_int(r, r as i64, to)
        }
        (T::Integer | T::Long, Value::Bool(b)) => Ok(Value::Int(i64::from(*b))),
        (T::Integer | T::Long, Value::Date(ms)) => range_int(*ms as f64, *ms, to),
        (T::Integer | T::Long, Value::Str(s)) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return range_int(i as f64, i, to);
            }
            match parse_java_double(t) {
                Some(d) => convert_scalar(&Value::Double(d), T::Double, to)
                    .map_err(|_| out_of_range(s, to)),
                None => Err(format!(
                    "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{s}]"
                )),
            }
        }
        (T::UnsignedLong, Value::Int(i)) => u64::try_from(*i)
            .map(Value::ULong)
            .map_err(|_| out_of_range(&i.to_string(), to)),
        (T::UnsignedLong, Value::ULong(u)) => Ok(Value::ULong(*u)),
        (T::UnsignedLong, Value::Double(d)) => {
            if *d < 0.0 || *d >= 18_446_744_073_709_551_616.0 || d.is_nan() {
                Err(out_of_range(&java_double(*d), to))
            } else {
                Ok(Value::ULong(d.trunc() as u64))
            }
        }
        (T::UnsignedLong, Value::Bool(b)) => Ok(Value::ULong(u64::from(*b))),
        (T::UnsignedLong, Value::Date(ms)) => Ok(Value::ULong(*ms as u64)),
        (T::UnsignedLong, Value::Str(s)) => match s.trim().parse::<u64>() {
            Ok(u) => Ok(Value::ULong(u)),
            Err(_) => match parse_java_double(s.trim()) {
                Some(d) => convert_scalar(&Value::Double(d), T::Double, to),
                None => Err(format!(
                    "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{s}]"
                )),
            },
        },
        (T::Double, Value::Int(i)) => Ok(Value::Double(*i as f64)),
        (T::Double, Value::ULong(u)) => Ok(Value::Double(*u as f64)),
        (T::Double, Value::Double(d)) => Ok(Value::Double(*d)),
        (T::Double, Value::Bool(b)) => Ok(Value::Double(if *b { 1.0 } else { 0.0 })),
        (T::Double, Value::Date(ms)) => Ok(Value::Double(*ms as f64)),
        (T::Double, Value::Str(s)) => parse_java_double(s.trim())
            .map(Value::Double)
            .ok_or_else(|| {
                format!(
                    "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{s}]"
                )
            }),
        (T::Date, Value::Date(ms)) => Ok(Value::Date(*ms)),
        (T::Date, Value::Int(i)) => Ok(Value::Date(*i)),
        (T::Date, Value::ULong(u)) => Ok(Value::Date(*u as i64)),
        (T::Date, Value::Double(d)) => Ok(Value::Date(*d as i64)),
        (T::Date, Value::Str(s)) => parse_date(s).map(Value::Date).ok_or_else(|| {
            format!(
                "java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [strict_date_optional_time]"
            )
        }),
        (T::Ip, Value::Ip(a)) => Ok(Value::Ip(*a)),
        (T::Ip, Value::Str(s)) => parse_ip(s).ok_or_else(|| {
            format!("java.lang.IllegalArgumentException: '{s}' is not an IP string literal.")
        }),
        (T::DatePeriod | T::TimeDuration, Value::Str(s)) => {
            match super::functions::parse_span_text(s) {
                Some((v, t)) if t == to => Ok(v),
                _ => Err(format!(
                    "java.lang.IllegalArgumentException: Cannot parse [{s}] to {}",
                    to.name()
                )),
            }
        }
        (T::DatePeriod, v @ Value::Period(..)) | (T::TimeDuration, v @ Value::Duration(_)) => {
            Ok(v.clone())
        }
        _ => Err(format!(
            "java.lang.IllegalArgumentException: cannot convert [{}] from [{}] to [{}]",
            to_text(v),
            from.name(),
            to.name()
        )),
    }
}

fn range_int(f: f64, i: i64, to: DataType) -> Result<Value, String> {
    if to == DataType::Integer && i32::try_from(i).is_err() {
        return Err(out_of_range(&int_text(f, i), to));
    }
    Ok(Value::Int(i))
}

fn int_text(f: f64, i: i64) -> String {
    if f.fract() != 0.0 || (f as i64) != i {
        java_double(f)
    } else {
        i.to_string()
    }
}

fn out_of_range(text: &str, to: DataType) -> String {
    let t = match to {
        DataType::Integer => "integer",
        DataType::Long => "long",
        DataType::UnsignedLong => "unsigned_long",
        other => other.name(),
    };
    format!(
        "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{text}] out of [{t}] range"
    )
}

/// Java's `Double.parseDouble`: also `1e3`, `.5`, `Infinity`; not hex or spaces.
pub(crate) fn parse_java_double(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains(['_', ' ']) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("inf") && !lower.contains("infinity") || lower.contains("nan") && s != "NaN" {
        return None;
    }
    s.trim_end_matches(['d', 'D', 'f', 'F']).parse::<f64>().ok()
}

/// Converts every element of `v`; failing elements are dropped, each with a warning.
pub(crate) fn convert_value(
    v: &Value,
    from: DataType,
    to: DataType,
    warn: &mut dyn FnMut(String),
) -> Value {
    let mut out = Vec::new();
    for item in v.items() {
        match convert_scalar(item, from, to) {
            Ok(x) => out.push(x),
            Err(e) => warn(e),
        }
    }
    Value::from_vec(out)
}
