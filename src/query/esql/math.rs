//! Numeric functions.

use super::eval::Ctx;
use super::types::{DataType, Value, cmp_scalar};

type R = Result<Value, String>;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn finite(x: f64) -> R {
    if x.is_finite() {
        Ok(Value::Double(x))
    } else {
        Err("java.lang.ArithmeticException: not a finite double number".into())
    }
}

pub fn abs(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    Ok(match &a[0] {
        Value::Int(i) => {
            let r = i
                .checked_abs()
                .ok_or("java.lang.ArithmeticException: overflow")?;
            if t[0] == DataType::Integer && i32::try_from(r).is_err() {
                return Err("java.lang.ArithmeticException: integer overflow".into());
            }
            Value::Int(r)
        }
        Value::Double(d) => Value::Double(d.abs()),
        other => other.clone(),
    })
}
pub fn signum(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let x = f(&a[0]);
    Ok(Value::Double(if x == 0.0 { 0.0 } else { x.signum() }))
}
pub fn ceil(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(match &a[0] {
        Value::Double(d) => Value::Double(d.ceil()),
        other => other.clone(),
    })
}
pub fn floor(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(match &a[0] {
        Value::Double(d) => Value::Double(d.floor()),
        other => other.clone(),
    })
}

/// `ROUND(x[, decimals])`: half away from zero; negative decimals round to tens, hundreds.
pub fn round(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let d = a.get(1).map_or(0, |v| match v {
        Value::Int(i) => *i,
        _ => 0,
    });
    Ok(match &a[0] {
        Value::Double(x) => {
            if d >= 0 {
                let p = 10f64.powi(d.min(300) as i32);
                let r = (x * p).round() / p;
                Value::Double(if r.is_finite() { r } else { *x })
            } else {
                let p = 10f64.powi(d.unsigned_abs().min(300) as i32);
                Value::Double((x / p).round() * p)
            }
        }
        Value::Int(i) if d < 0 => {
            let p = 10i64
                .checked_pow(d.unsigned_abs().min(40) as u32)
                .unwrap_or(i64::MAX);
            let half = p / 2;
            let r = if *i >= 0 {
                i.saturating_add(half) / p * p
            } else {
                (i.saturating_sub(half) / p).saturating_mul(p)
            };
            Value::Int(r)
        }
        Value::ULong(u) if d < 0 => {
            let p = 10u64
                .checked_pow(d.unsigned_abs().min(40) as u32)
                .unwrap_or(u64::MAX);
            Value::ULong(u.saturating_add(p / 2) / p * p)
        }
        other => other.clone(),
    })
}

pub fn pow(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    finite(f(&a[0]).powf(f(&a[1])))
}
pub fn log(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    if a.len() == 1 {
        let x = f(&a[0]);
        if x <= 0.0 {
            return Err("java.lang.ArithmeticException: Log of non-positive number".into());
        }
        return Ok(Value::Double(x.ln()));
    }
    let (b, x) = (f(&a[0]), f(&a[1]));
    if x <= 0.0 || b <= 0.0 {
        return Err("java.lang.ArithmeticException: Log of non-positive number".into());
    }
    if b == 1.0 {
        return Err("java.lang.ArithmeticException: Log of base 1".into());
    }
    Ok(Value::Double(x.ln() / b.ln()))
}
pub fn atan2(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Double(f(&a[0]).atan2(f(&a[1]))))
}
pub fn hypot(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    finite(f(&a[0]).hypot(f(&a[1])))
}
pub fn sqrt(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let x = f(&a[0]);
    if x < 0.0 {
        return Err("java.lang.ArithmeticException: Square root of negative".into());
    }
    Ok(Value::Double(x.sqrt()))
}
pub fn log10(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let x = f(&a[0]);
    if x <= 0.0 {
        return Err("java.lang.ArithmeticException: Log of non-positive number".into());
    }
    Ok(Value::Double(x.log10()))
}
pub fn exp(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Double(f(&a[0]).exp()))
}
pub fn cbrt(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Double(f(&a[0]).cbrt()))
}
pub fn sin(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Double(f(&a[0]).sin()))
}
pub fn cos(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Double(f(&a[0]).cos()))
}
pub fn tan(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Double(f(&a[0]).tan()))
}
pub fn to_degrees(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    finite(f(&a[0]).to_degrees())
}
pub fn to_radians(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Double(f(&a[0]).to_radians()))
}

fn extreme(a: &[Value], t: &[DataType], greatest: bool) -> R {
    let ty = t
        .iter()
        .copied()
        .find(|x| *x != DataType::Null)
        .unwrap_or(DataType::Null);
    let mut best: Option<Value> = None;
    for v in a {
        if v.is_null() {
            return Ok(Value::Null);
        }
        for item in v.items() {
            let item = if ty == DataType::Double {
                Value::Double(item.as_f64().unwrap_or(0.0))
            } else {
                item.clone()
            };
            best = Some(match best {
                None => item,
                Some(b) => {
                    let o = cmp_scalar(&item, &b, ty);
                    if (o == std::cmp::Ordering::Greater) == greatest
                        && o != std::cmp::Ordering::Equal
                    {
                        item
                    } else {
                        b
                    }
                }
            });
        }
    }
    Ok(best.unwrap_or(Value::Null))
}
pub fn greatest(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    extreme(a, t, true)
}
pub fn least(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    extreme(a, t, false)
}
