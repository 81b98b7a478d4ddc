//! Aggregate functions of STATS: accumulate values per group, then finish to one value.

use super::ast::Span;
use super::error::EsqlError;
use super::eval::{CExpr, Ctx, lc};
use super::types::{DataType, Value, cmp_scalar};
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggKind {
    Count,
    CountStar,
    CountDistinct,
    Min,
    Max,
    Sum,
    Avg,
    Values,
    Median,
    Mad,
    Percentile,
    StdDev,
    Variance,
    WeightedAvg,
    Top,
    /// `FIRST(value, sort)` / `LAST(value, sort)`: the value of the row with the least /
    /// greatest sort key (rows with a null key are ignored).
    First,
    Last,
    Present,
    Absent,
}

/// One aggregation of a STATS command, resolved against the input columns.
#[derive(Debug, Clone)]
pub(crate) struct Agg {
    pub kind: AggKind,
    pub arg: Option<CExpr>,
    /// Extra arguments (`PERCENTILE`'s percentile, `TOP`'s count and order, `WEIGHTED_AVG`'s
    /// weight).
    pub extra: Vec<CExpr>,
    pub filter: Option<CExpr>,
    pub ty: DataType,
    pub span: Span,
}

pub(crate) fn kind_of(name: &str) -> Option<AggKind> {
    Some(match name {
        "count" => AggKind::Count,
        "count_distinct" => AggKind::CountDistinct,
        "min" => AggKind::Min,
        "max" => AggKind::Max,
        "sum" => AggKind::Sum,
        "avg" => AggKind::Avg,
        "values" => AggKind::Values,
        "median" => AggKind::Median,
        "median_absolute_deviation" => AggKind::Mad,
        "percentile" => AggKind::Percentile,
        "std_dev" => AggKind::StdDev,
        "variance" => AggKind::Variance,
        "weighted_avg" => AggKind::WeightedAvg,
        "top" => AggKind::Top,
        "first" => AggKind::First,
        "last" => AggKind::Last,
        "present" => AggKind::Present,
        "absent" => AggKind::Absent,
        _ => return None,
    })
}

pub(crate) fn result_type(
    kind: AggKind,
    arg: DataType,
    src: &str,
    span: &Span,
) -> Result<DataType, EsqlError> {
    use AggKind::*;
    let numeric = || {
        if arg.is_numeric() || arg == DataType::Null {
            Ok(())
        } else {
            Err(EsqlError::verify(
                format!(
                    "{}: argument of [{}] must be [numeric except unsigned_long or counter types], found value [] type [{}]",
                    lc(src, span),
                    src.get(span.clone()).unwrap_or(""),
                    arg.name()
                ),
                span.clone(),
            ))
        }
    };
    Ok(match kind {
        Count | CountStar | CountDistinct => DataType::Long,
        Present | Absent => DataType::Boolean,
        Min | Max | Values | Top | First | Last => arg,
        Sum if arg == DataType::Null => DataType::Null,
        Sum => {
            numeric()?;
            match arg {
                DataType::Double => DataType::Double,
                DataType::UnsignedLong => DataType::UnsignedLong,
                _ => DataType::Long,
            }
        }
        Avg | Median | Mad | Percentile | StdDev | Variance | WeightedAvg => {
            numeric()?;
            DataType::Double
        }
    })
}

/// Runs one aggregation over the rows of a group.
pub(crate) fn run(agg: &Agg, rows: &[&Vec<Value>], ctx: &Ctx) -> Value {
    let rows: Vec<&Vec<Value>> = match &agg.filter {
        Some(f) => rows
            .iter()
            .copied()
            .filter(|r| f.eval(r, ctx) == Value::Bool(true))
            .collect(),
        None => rows.to_vec(),
    };
    if agg.kind == AggKind::CountStar {
        return Value::Int(rows.len() as i64);
    }
    let Some(arg) = &agg.arg else {
        return Value::Null;
    };
    let mut vals: Vec<Value> = Vec::new();
    let mut per_row: Vec<Value> = Vec::new();
    for r in &rows {
        let v = arg.eval(r, ctx);
        if matches!(
            agg.kind,
            AggKind::WeightedAvg | AggKind::First | AggKind::Last
        ) {
            per_row.push(v.clone());
        }
        vals.extend(v.items().iter().cloned());
    }
    let ty = arg.ty;
    match finish(agg, ty, vals, per_row, &rows, ctx) {
        Ok(v) => v,
        Err(ex) => {
            ctx.warnings.borrow_mut().add(ctx.src, &agg.span, ex);
            Value::Null
        }
    }
}

fn finish(
    agg: &Agg,
    ty: DataType,
    mut vals: Vec<Value>,
    per_row: Vec<Value>,
    rows: &[&Vec<Value>],
    ctx: &Ctx,
) -> Result<Value, String> {
    use AggKind::*;
    let f64s = |v: &[Value]| v.iter().filter_map(Value::as_f64).collect::<Vec<_>>();
    Ok(match agg.kind {
        CountStar => Value::Int(rows.len() as i64),
        Count => Value::Int(vals.len() as i64),
        Present => Value::Bool(!vals.is_empty()),
        Absent => Value::Bool(vals.is_empty()),
        CountDistinct => {
            sort(&mut vals, ty);
            vals.dedup();
            Value::Int(vals.len() as i64)
        }
        Min | Max => {
            let want = if agg.kind == Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            let mut best: Option<Value> = None;
            for v in vals {
                if best.as_ref().is_none_or(|b| cmp_scalar(&v, b, ty) == want) {
                    best = Some(v);
                }
            }
            best.unwrap_or(Value::Null)
        }
        Sum => {
            if vals.is_empty() {
                return Ok(Value::Null);
            }
            match agg.ty {
                DataType::Double => Value::Double(kahan(&f64s(&vals))),
                DataType::UnsignedLong => {
                    let mut s = 0u64;
                    for v in &vals {
                        if let Value::ULong(u) = v {
                            s = s
                                .checked_add(*u)
                                .ok_or("java.lang.ArithmeticException: unsigned_long overflow")?;
                        }
                    }
                    Value::ULong(s)
                }
                _ => {
                    let mut s = 0i64;
                    for v in &vals {
                        if let Value::Int(i) = v {
                            s = s
                                .checked_add(*i)
                                .ok_or("java.lang.ArithmeticException: long overflow")?;
                        }
                    }
                    Value::Int(s)
                }
            }
        }
        Avg => {
            if vals.is_empty() {
                return Ok(Value::Null);
            }
            let xs = f64s(&vals);
            Value::Double(kahan(&xs) / xs.len() as f64)
        }
        Values => {
            sort(&mut vals, ty);
            vals.dedup();
            Value::from_vec(vals)
        }
        Median | Percentile => {
            let p = if agg.kind == Median {
                50.0
            } else {
                let p = agg
                    .extra
                    .first()
                    .map(|e| e.eval(&[], ctx))
                    .and_then(|v| v.as_f64());
                match p {
                    Some(p) if (0.0..=100.0).contains(&p) => p,
                    Some(p) => {
                        return Err(format!(
                            "java.lang.IllegalArgumentException: Percentile value must be in range [0, 100], found {}",
                            super::types::java_double(p)
                        ));
                    }
                    None => return Ok(Value::Null),
                }
            };
            let mut xs = f64s(&vals);
            percentile(&mut xs, p).map_or(Value::Null, Value::Double)
        }
        Mad => {
            let mut xs = f64s(&vals);
            let Some(m) = percentile(&mut xs, 50.0) else {
                return Ok(Value::Null);
            };
            let mut dev: Vec<f64> = xs.iter().map(|x| (x - m).abs()).collect();
            percentile(&mut dev, 50.0).map_or(Value::Null, Value::Double)
        }
        StdDev | Variance => {
            let xs = f64s(&vals);
            if xs.is_empty() {
                return Ok(Value::Null);
            }
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
            Value::Double(if agg.kind == StdDev { var.sqrt() } else { var })
        }
        First | Last => {
            let Some(key) = agg.extra.first() else {
                return Ok(Value::Null);
            };
            let mut best: Option<(Value, &Value)> = None;
            for (r, v) in rows.iter().zip(&per_row) {
                let k = key.eval(r, ctx);
                if k == Value::Null {
                    continue;
                }
                let better = best.as_ref().is_none_or(|(b, _)| {
                    let o = cmp_scalar(&k, b, key.ty);
                    if agg.kind == First {
                        o == Ordering::Less
                    } else {
                        o == Ordering::Greater
                    }
                });
                if better {
                    best = Some((k, v));
                }
            }
            best.map_or(Value::Null, |(_, v)| v.clone())
        }
        WeightedAvg => {
            let Some(w) = agg.extra.first() else {
                return Ok(Value::Null);
            };
            let (mut num, mut den) = (0.0, 0.0);
            for (r, v) in rows.iter().zip(&per_row) {
                let wv = w.eval(r, ctx);
                if matches!(v, Value::Multi(_)) || matches!(wv, Value::Multi(_)) {
                    return Err(super::eval::MV_WARNING.into());
                }
                if let (Some(x), Some(wt)) = (v.as_f64(), wv.as_f64()) {
                    num += x * wt;
                    den += wt;
                }
            }
            if den == 0.0 && !(rows.is_empty() || per_row.iter().all(Value::is_null)) {
                return Err("java.lang.ArithmeticException: / by zero".into());
            }
            if den == 0.0 {
                Value::Null
            } else {
                Value::Double(num / den)
            }
        }
        Top => {
            let n = agg.extra.first().map(|e| e.eval(&[], ctx));
            let order = agg.extra.get(1).map(|e| e.eval(&[], ctx));
            let Some(Value::Int(n)) = n else {
                return Ok(Value::Null);
            };
            sort(&mut vals, ty);
            if order
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|o| o.eq_ignore_ascii_case("desc"))
            {
                vals.reverse();
            }
            vals.truncate(n.max(0) as usize);
            Value::from_vec(vals)
        }
    })
}

fn sort(vals: &mut [Value], ty: DataType) {
    vals.sort_by(|a, b| cmp_scalar(a, b, ty));
}

fn kahan(xs: &[f64]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for x in xs {
        let y = x - c;
        let t = sum + y;
        c = (t - sum) - y;
        sum = t;
    }
    sum
}

/// Linear interpolation between closest ranks (as t-digest gives for small sets).
fn percentile(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 1 {
        return Some(xs[0]);
    }
    let rank = p / 100.0 * (n - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    Some(xs[lo] + (xs[hi] - xs[lo]) * (rank - lo as f64))
}
