//! Scalar functions: resolution (arity, argument types, result type) and dispatch. The
//! implementations live in `strings`, `math`, `dates`, `mv` and `convert`.

use super::ast::{BinOp, Expr, ExprKind, Literal, Span};
use super::error::EsqlError;
use super::eval::{CExpr, Ctx, Func, FuncImpl, Node, Resolver, coerce_literal, lc};
use super::types::{DataType, Value};
use super::{convert, dates, geo, math, mv, strings};

/// Aggregate functions (only valid in STATS).
pub const AGGREGATES: [&str; 19] = [
    "count",
    "count_distinct",
    "min",
    "max",
    "sum",
    "avg",
    "values",
    "median",
    "median_absolute_deviation",
    "percentile",
    "std_dev",
    "variance",
    "weighted_avg",
    "top",
    "first",
    "last",
    "sample",
    "present",
    "absent",
];

pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

fn wrong_arity(src: &str, name: &str, span: &Span) -> EsqlError {
    EsqlError::verify(
        format!(
            "{}: wrong number of arguments for [{}]",
            lc(src, span),
            name.to_ascii_uppercase()
        ),
        span.clone(),
    )
}

pub(crate) fn resolve(
    r: &Resolver,
    name: &str,
    args: &[Expr],
    span: Span,
) -> Result<CExpr, EsqlError> {
    if is_aggregate(name) {
        return Err(EsqlError::verify(
            format!(
                "{}: aggregate function [{}] is only allowed in STATS",
                lc(r.src, &span),
                r.src.get(span.clone()).unwrap_or(name)
            ),
            span,
        ));
    }
    if name == "kql" {
        return kql(r, args, span);
    }
    if name == "match" {
        if !(2..=3).contains(&args.len()) {
            return Err(EsqlError::verify(
                format!("{}: MATCH needs a field and a query", lc(r.src, &span)),
                span,
            ));
        }
        let field = r.resolve(&args[0])?;
        let query = r.resolve(&args[1])?;
        return Ok(CExpr {
            node: Node::Call(
                Func {
                    name: "match",
                    run: strings::full_text_match,
                    multi: true,
                },
                vec![field, query],
            ),
            ty: DataType::Boolean,
            span,
        });
    }
    let mut cargs = args
        .iter()
        .map(|a| r.resolve(a))
        .collect::<Result<Vec<_>, _>>()?;
    match name {
        "case" => return case(r, cargs, span),
        "coalesce" => {
            if cargs.is_empty() {
                return Err(wrong_arity(r.src, name, &span));
            }
            let ty = common_type(&cargs);
            for a in &mut cargs {
                coerce_literal(a, ty);
                if a.ty.is_numeric() && ty.is_numeric() && a.ty != ty {
                    let from = a.ty;
                    let inner =
                        std::mem::replace(a, super::eval::lit(Value::Null, DataType::Null, 0..0));
                    *a = numeric_cast(inner, from, ty);
                }
            }
            return Ok(CExpr {
                node: Node::Coalesce(cargs),
                ty,
                span,
            });
        }
        _ => {}
    }
    let Some((run, multi, ty)) = lookup(name, &mut cargs, r.src, &span)? else {
        return Err(EsqlError::unsupported(
            format!("{}: Unknown function [{}]", lc(r.src, &span), name),
            span,
        ));
    };
    Ok(CExpr {
        node: Node::Call(
            Func {
                name: leak(name),
                run,
                multi,
            },
            cargs,
        ),
        ty,
        span,
    })
}

fn leak(name: &str) -> &'static str {
    // Function names are matched from a fixed table; keep the table's static string.
    FUNCTION_NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("function")
}

/// The type a list of branches agrees on (the first non-null; numerics widen).
pub(crate) fn common_type(args: &[CExpr]) -> DataType {
    let mut ty = DataType::Null;
    for a in args {
        if ty == DataType::Null {
            ty = a.ty;
        } else if ty.is_numeric() && a.ty.is_numeric() {
            ty = DataType::widen(ty, a.ty);
        } else if ty == DataType::Keyword && a.ty == DataType::Text
            || ty == DataType::Text && a.ty == DataType::Keyword
        {
            ty = DataType::Keyword;
        }
    }
    ty
}

fn case(r: &Resolver, mut args: Vec<CExpr>, span: Span) -> Result<CExpr, EsqlError> {
    if args.len() < 2 {
        return Err(wrong_arity(r.src, "case", &span));
    }
    let mut values = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let is_cond = i % 2 == 0 && i + 1 < args.len();
        if is_cond {
            if !matches!(a.ty, DataType::Boolean | DataType::Null) {
                return Err(EsqlError::verify(
                    format!(
                        "{}: condition [{}] must be [boolean]",
                        lc(r.src, &a.span),
                        r.src.get(a.span.clone()).unwrap_or("")
                    ),
                    a.span.clone(),
                ));
            }
        } else {
            values.push(a.clone());
        }
    }
    let ty = common_type(&values);
    let n = args.len();
    for (i, a) in args.iter_mut().enumerate() {
        if !(i % 2 == 0 && i + 1 < n) {
            coerce_literal(a, ty);
            if a.ty != ty
                && a.ty != DataType::Null
                && !(a.ty.is_numeric() && ty.is_numeric())
                && !(a.ty.is_string() && ty.is_string())
            {
                return Err(EsqlError::verify(
                    format!(
                        "{}: all values of [{}] must have the same type, found [{}] and [{}]",
                        lc(r.src, &span),
                        r.src.get(span.clone()).unwrap_or(""),
                        ty.name(),
                        a.ty.name()
                    ),
                    a.span.clone(),
                ));
            }
            if a.ty.is_numeric() && a.ty != ty {
                let from = a.ty;
                let inner =
                    std::mem::replace(a, super::eval::lit(Value::Null, DataType::Null, 0..0));
                *a = numeric_cast(inner, from, ty);
            }
        }
    }
    Ok(CExpr {
        node: Node::Case(args),
        ty,
        span,
    })
}

fn numeric_cast(e: CExpr, _from: DataType, to: DataType) -> CExpr {
    let span = e.span.clone();
    let run: FuncImpl = match to {
        DataType::Double => |a, t, c| conv(a, t, c, DataType::Double),
        DataType::Long => |a, t, c| conv(a, t, c, DataType::Long),
        DataType::UnsignedLong => |a, t, c| conv(a, t, c, DataType::UnsignedLong),
        _ => |a, t, c| conv(a, t, c, DataType::Integer),
    };
    CExpr {
        node: Node::Call(
            Func {
                name: "to_double",
                run,
                multi: true,
            },
            vec![e],
        ),
        ty: to,
        span,
    }
}

fn kql(r: &Resolver, args: &[Expr], span: Span) -> Result<CExpr, EsqlError> {
    let [arg] = args else {
        return Err(wrong_arity(r.src, "kql", &span));
    };
    let ExprKind::Literal(Literal::Str(text)) = &arg.kind else {
        return Err(EsqlError::verify(
            format!(
                "{}: argument of [KQL] must be a string literal",
                lc(r.src, &span)
            ),
            arg.span.clone(),
        ));
    };
    let q = crate::query::kql::parse(text)
        .map_err(|e| EsqlError::verify(format!("KQL: {}", e.message), arg.span.clone()))?;
    let mut types = crate::query::kql::FieldTypes::empty();
    for c in r.columns {
        let es = match c.ty {
            DataType::Keyword | DataType::Version => "keyword",
            DataType::Text => "text",
            DataType::Integer => "integer",
            DataType::Long => "long",
            DataType::UnsignedLong => "unsigned_long",
            DataType::Double => "double",
            DataType::Boolean => "boolean",
            DataType::Date => "date",
            DataType::Ip => "ip",
            _ => continue,
        };
        types = types.with_override(&c.name, es);
    }
    let compiled = q
        .compile(&types)
        .map_err(|e| EsqlError::verify(format!("KQL: {}", e.message), arg.span.clone()))?;
    Ok(CExpr {
        node: Node::Kql(Box::new(compiled)),
        ty: DataType::Boolean,
        span,
    })
}

fn conv(a: &[Value], t: &[DataType], c: &Ctx, to: DataType) -> Result<Value, String> {
    Ok(convert::convert_value(&a[0], t[0], to, &mut |e| c.warn(e)))
}

/// `::type` casts.
pub(crate) fn cast(e: CExpr, to: &str, span: Span) -> Result<CExpr, EsqlError> {
    let ty = match to {
        "int" | "integer" => DataType::Integer,
        "long" => DataType::Long,
        "double" => DataType::Double,
        "keyword" | "string" => DataType::Keyword,
        "text" => DataType::Text,
        "bool" | "boolean" => DataType::Boolean,
        "date" | "datetime" => DataType::Date,
        "ip" => DataType::Ip,
        "version" => DataType::Version,
        "ul" | "unsigned_long" => DataType::UnsignedLong,
        "date_period" => DataType::DatePeriod,
        "time_duration" => DataType::TimeDuration,
        _ => {
            return Err(EsqlError::unsupported(
                format!(
                    "Unsupported conversion to type [{}]",
                    to.to_ascii_uppercase()
                ),
                span,
            ));
        }
    };
    if e.ty == ty {
        return Ok(CExpr { span, ..e });
    }
    let mut args = vec![e];
    let (run, multi, ty) = conversion(ty, &mut args);
    Ok(CExpr {
        node: Node::Call(
            Func {
                name: "cast",
                run,
                multi,
            },
            args,
        ),
        ty,
        span,
    })
}

fn conversion(to: DataType, _args: &mut [CExpr]) -> (FuncImpl, bool, DataType) {
    let run: FuncImpl = match to {
        DataType::Integer => |a, t, c| conv(a, t, c, DataType::Integer),
        DataType::Long => |a, t, c| conv(a, t, c, DataType::Long),
        DataType::Double => |a, t, c| conv(a, t, c, DataType::Double),
        DataType::Keyword => |a, t, c| conv(a, t, c, DataType::Keyword),
        DataType::Text => |a, t, c| conv(a, t, c, DataType::Text),
        DataType::Boolean => |a, t, c| conv(a, t, c, DataType::Boolean),
        DataType::Date => |a, t, c| conv(a, t, c, DataType::Date),
        DataType::Ip => |a, t, c| conv(a, t, c, DataType::Ip),
        DataType::Version => |a, t, c| conv(a, t, c, DataType::Version),
        DataType::UnsignedLong => |a, t, c| conv(a, t, c, DataType::UnsignedLong),
        DataType::DatePeriod => |a, t, c| conv(a, t, c, DataType::DatePeriod),
        _ => |a, t, c| conv(a, t, c, DataType::TimeDuration),
    };
    (run, true, to)
}

const FUNCTION_NAMES: &[&str] = &[
    "to_string",
    "to_str",
    "to_integer",
    "to_int",
    "to_long",
    "to_double",
    "to_dbl",
    "to_boolean",
    "to_bool",
    "to_datetime",
    "to_dt",
    "to_ip",
    "to_version",
    "to_ver",
    "to_unsigned_long",
    "to_ul",
    "to_ulong",
    "to_timeduration",
    "to_dateperiod",
    "length",
    "bit_length",
    "byte_length",
    "to_lower",
    "to_upper",
    "trim",
    "ltrim",
    "rtrim",
    "concat",
    "substring",
    "left",
    "right",
    "replace",
    "locate",
    "starts_with",
    "ends_with",
    "contains",
    "split",
    "space",
    "repeat",
    "reverse",
    "url_encode",
    "url_encode_component",
    "url_decode",
    "to_base64",
    "from_base64",
    "abs",
    "round",
    "ceil",
    "floor",
    "pow",
    "sqrt",
    "log10",
    "log",
    "exp",
    "signum",
    "pi",
    "e",
    "tau",
    "greatest",
    "least",
    "now",
    "to_geopoint",
    "st_x",
    "st_y",
    "st_distance",
    "date_trunc",
    "date_diff",
    "date_extract",
    "date_format",
    "date_parse",
    "day_name",
    "month_name",
    "bucket",
    "mv_count",
    "mv_first",
    "mv_last",
    "mv_min",
    "mv_max",
    "mv_sum",
    "mv_avg",
    "mv_median",
    "mv_dedupe",
    "mv_sort",
    "mv_slice",
    "mv_concat",
    "mv_contains",
    "mv_append",
    "mv_zip",
    "mv_intersection",
    "cidr_match",
    "ip_prefix",
    "json_extract",
    "cbrt",
    "mv_union",
    "to_degrees",
    "to_radians",
    "sin",
    "cos",
    "tan",
    "md5",
    "sha1",
    "sha256",
    "hypot",
    "atan2",
    "mv_median_absolute_deviation",
    "to_double_cast",
    "mv_percentile",
    "scalb",
];

type Resolved = Option<(FuncImpl, bool, DataType)>;

fn want(
    src: &str,
    span: &Span,
    args: &[CExpr],
    min: usize,
    max: usize,
    name: &str,
) -> Result<(), EsqlError> {
    if args.len() < min || args.len() > max {
        return Err(wrong_arity(src, name, span));
    }
    Ok(())
}

fn check_arg(
    src: &str,
    span: &Span,
    args: &[CExpr],
    i: usize,
    ok: fn(DataType) -> bool,
    what: &str,
) -> Result<(), EsqlError> {
    if let Some(a) = args.get(i) {
        if a.ty != DataType::Null && !ok(a.ty) {
            let ord = ["first", "second", "third", "fourth"]
                .get(i)
                .copied()
                .unwrap_or("an");
            return Err(EsqlError::verify(
                format!(
                    "{}: {ord} argument of [{}] must be [{what}], found value [{}] type [{}]",
                    lc(src, span),
                    src.get(span.clone()).unwrap_or(""),
                    src.get(a.span.clone()).unwrap_or(""),
                    a.ty.name()
                ),
                a.span.clone(),
            ));
        }
    }
    Ok(())
}

fn string_ty(t: DataType) -> bool {
    t.is_string()
}

fn numeric_ty(t: DataType) -> bool {
    t.is_numeric()
}

fn int_ty(t: DataType) -> bool {
    matches!(t, DataType::Integer | DataType::Long)
}

fn lookup(name: &str, args: &mut [CExpr], src: &str, span: &Span) -> Result<Resolved, EsqlError> {
    let w = |min, max| want(src, span, args, min, max, name);
    use DataType as T;
    if name == "to_ip" && args.len() == 2 {
        // `TO_IP(s, {"leading_zeros": "reject" | "decimal" | "octal"})`.
        let opt = match &args[1].node {
            Node::Lit(Value::Str(s)) => s.to_ascii_lowercase(),
            _ => String::new(),
        };
        let run: FuncImpl = if opt.contains("\"octal\"") {
            |a, _, c| Ok(strings::to_ip_leading_zeros(&a[0], 8, c))
        } else if opt.contains("\"decimal\"") {
            |a, _, c| Ok(strings::to_ip_leading_zeros(&a[0], 10, c))
        } else {
            |a, t, c| conv(a, t, c, DataType::Ip)
        };
        return Ok(Some((run, true, T::Ip)));
    }
    if let Some(r) = conversion_fn(name) {
        w(1, 1)?;
        return Ok(Some(r));
    }
    let r: (FuncImpl, bool, DataType) = match name {
        "length" | "bit_length" | "byte_length" => {
            w(1, 1)?;
            check_arg(src, span, args, 0, string_ty, "string")?;
            let f: FuncImpl = match name {
                "length" => strings::length,
                "bit_length" => strings::bit_length,
                _ => strings::byte_length,
            };
            (f, false, T::Integer)
        }
        "to_lower" | "to_upper" | "trim" | "ltrim" | "rtrim" | "reverse" => {
            w(1, 1)?;
            check_arg(src, span, args, 0, string_ty, "string")?;
            let f: FuncImpl = match name {
                "to_lower" => strings::to_lower,
                "to_upper" => strings::to_upper,
                "trim" => strings::trim,
                "ltrim" => strings::ltrim,
                "rtrim" => strings::rtrim,
                _ => strings::reverse,
            };
            let multi = matches!(name, "to_lower" | "to_upper");
            (
                f,
                multi,
                if args[0].ty == T::Null {
                    if name == "reverse" {
                        T::Null
                    } else {
                        T::Keyword
                    }
                } else if name == "reverse" {
                    T::Keyword
                } else {
                    args[0].ty
                },
            )
        }
        "concat" => {
            if args.len() < 2 {
                return Err(wrong_arity(src, name, span));
            }
            for i in 0..args.len() {
                check_arg(src, span, args, i, string_ty, "string")?;
            }
            (strings::concat, false, T::Keyword)
        }
        "substring" => {
            w(2, 3)?;
            check_arg(src, span, args, 0, string_ty, "string")?;
            check_arg(src, span, args, 1, int_ty, "integer")?;
            (strings::substring, false, T::Keyword)
        }
        "left" | "right" => {
            w(2, 2)?;
            check_arg(src, span, args, 0, string_ty, "string")?;
            let f: FuncImpl = if name == "left" {
                strings::left
            } else {
                strings::right
            };
            (f, false, T::Keyword)
        }
        "replace" => {
            w(3, 3)?;
            (strings::replace, false, T::Keyword)
        }
        "locate" => {
            w(2, 3)?;
            (strings::locate, false, T::Integer)
        }
        "starts_with" | "ends_with" | "contains" => {
            w(2, 2)?;
            check_arg(src, span, args, 0, string_ty, "string")?;
            check_arg(src, span, args, 1, string_ty, "string")?;
            let f: FuncImpl = match name {
                "starts_with" => strings::starts_with,
                "ends_with" => strings::ends_with,
                _ => strings::contains,
            };
            (f, false, T::Boolean)
        }
        "split" => {
            w(2, 2)?;
            (strings::split, false, T::Keyword)
        }
        "space" => {
            w(1, 1)?;
            (strings::space, false, T::Keyword)
        }
        "repeat" => {
            w(2, 2)?;
            (strings::repeat, false, T::Keyword)
        }
        "url_encode"
        | "url_encode_component"
        | "url_decode"
        | "to_base64"
        | "from_base64"
        | "md5"
        | "sha1"
        | "sha256" => {
            w(1, 1)?;
            check_arg(src, span, args, 0, string_ty, "string")?;
            let f: FuncImpl = match name {
                "url_encode" => strings::url_encode,
                "url_encode_component" => strings::url_encode_component,
                "url_decode" => strings::url_decode,
                "to_base64" => strings::to_base64,
                "from_base64" => strings::from_base64,
                "sha256" => strings::sha256,
                _ => return Ok(None),
            };
            (f, false, T::Keyword)
        }
        "json_extract" => {
            w(2, 2)?;
            (strings::json_extract, false, T::Keyword)
        }
        _ => return math_or_date(name, args, src, span),
    };
    Ok(Some(r))
}

fn math_or_date(
    name: &str,
    args: &mut [CExpr],
    src: &str,
    span: &Span,
) -> Result<Resolved, EsqlError> {
    let w = |args: &[CExpr], min, max| want(src, span, args, min, max, name);
    use DataType as T;
    let r: (FuncImpl, bool, DataType) = match name {
        "abs" | "signum" | "ceil" | "floor" => {
            w(args, 1, 1)?;
            check_arg(src, span, args, 0, numeric_ty, "numeric")?;
            let ty = args[0].ty;
            let f: FuncImpl = match name {
                "abs" => math::abs,
                "signum" => math::signum,
                "ceil" => math::ceil,
                _ => math::floor,
            };
            (f, false, if name == "signum" { T::Double } else { ty })
        }
        "round" => {
            w(args, 1, 2)?;
            check_arg(src, span, args, 0, numeric_ty, "numeric")?;
            check_arg(src, span, args, 1, int_ty, "integer")?;
            (math::round, false, args[0].ty)
        }
        "pow" | "log" | "atan2" | "hypot" => {
            w(args, if name == "log" { 1 } else { 2 }, 2)?;
            for i in 0..args.len() {
                check_arg(src, span, args, i, numeric_ty, "numeric")?;
            }
            let f: FuncImpl = match name {
                "pow" => math::pow,
                "log" => math::log,
                "atan2" => math::atan2,
                _ => math::hypot,
            };
            (f, false, T::Double)
        }
        "sqrt" | "log10" | "exp" | "cbrt" | "sin" | "cos" | "tan" | "to_degrees" | "to_radians" => {
            w(args, 1, 1)?;
            check_arg(src, span, args, 0, numeric_ty, "numeric")?;
            let f: FuncImpl = match name {
                "sqrt" => math::sqrt,
                "log10" => math::log10,
                "exp" => math::exp,
                "cbrt" => math::cbrt,
                "sin" => math::sin,
                "cos" => math::cos,
                "tan" => math::tan,
                "to_degrees" => math::to_degrees,
                _ => math::to_radians,
            };
            (f, false, T::Double)
        }
        "pi" | "e" | "tau" => {
            w(args, 0, 0)?;
            let f: FuncImpl = match name {
                "pi" => |_, _, _| Ok(Value::Double(std::f64::consts::PI)),
                "e" => |_, _, _| Ok(Value::Double(std::f64::consts::E)),
                _ => |_, _, _| Ok(Value::Double(std::f64::consts::TAU)),
            };
            (f, false, T::Double)
        }
        "greatest" | "least" => {
            if args.is_empty() {
                return Err(wrong_arity(src, name, span));
            }
            let ty = common_type(args);
            let f: FuncImpl = if name == "greatest" {
                math::greatest
            } else {
                math::least
            };
            (f, true, ty)
        }
        "now" => {
            w(args, 0, 0)?;
            (dates::now, false, T::Date)
        }
        "date_trunc" | "bucket" => {
            w(args, 2, if name == "bucket" { 4 } else { 2 })?;
            let (span_i, date_i) = if name == "date_trunc" { (0, 1) } else { (1, 0) };
            coerce_literal(&mut args[date_i], T::Date);
            super::eval::coerce_span(&mut args[span_i]);
            if name == "bucket" && args.len() > 2 {
                return Err(EsqlError::unsupported(
                    format!(
                        "{}: BUCKET with a bucket count and range is not supported",
                        lc(src, span)
                    ),
                    span.clone(),
                ));
            }
            let numeric = name == "bucket" && args[0].ty.is_numeric();
            if numeric {
                (dates::bucket_numeric, false, T::Double)
            } else {
                check_arg(
                    src,
                    span,
                    args,
                    span_i,
                    DataType::is_span,
                    "date_period or time_duration",
                )?;
                check_arg(src, span, args, date_i, |t| t == T::Date, "datetime")?;
                let f: FuncImpl = if name == "date_trunc" {
                    dates::date_trunc
                } else {
                    dates::bucket
                };
                (f, false, T::Date)
            }
        }
        "date_diff" => {
            w(args, 3, 3)?;
            coerce_literal(&mut args[1], T::Date);
            coerce_literal(&mut args[2], T::Date);
            (dates::date_diff, false, T::Integer)
        }
        "date_extract" => {
            w(args, 2, 2)?;
            coerce_literal(&mut args[1], T::Date);
            (dates::date_extract, false, T::Long)
        }
        "date_format" => {
            w(args, 1, 2)?;
            (dates::date_format, false, T::Keyword)
        }
        "date_parse" => {
            w(args, 1, 2)?;
            (dates::date_parse, false, T::Date)
        }
        "day_name" | "month_name" => {
            w(args, 1, 1)?;
            let f: FuncImpl = if name == "day_name" {
                dates::day_name
            } else {
                dates::month_name
            };
            (f, false, T::Keyword)
        }
        "cidr_match" => {
            if args.len() < 2 {
                return Err(wrong_arity(src, name, span));
            }
            (strings::cidr_match, true, T::Boolean)
        }
        "ip_prefix" => {
            w(args, 3, 3)?;
            (strings::ip_prefix, false, T::Ip)
        }
        _ => return mv_fn(name, args, src, span),
    };
    Ok(Some(r))
}

fn mv_fn(name: &str, args: &mut [CExpr], src: &str, span: &Span) -> Result<Resolved, EsqlError> {
    let w = |args: &[CExpr], min, max| want(src, span, args, min, max, name);
    use DataType as T;
    let first = args.first().map_or(T::Null, |a| a.ty);
    let r: (FuncImpl, bool, DataType) = match name {
        "mv_count" => {
            w(args, 1, 1)?;
            (mv::count, true, T::Integer)
        }
        "mv_first" | "mv_last" | "mv_min" | "mv_max" | "mv_dedupe" => {
            w(args, 1, 1)?;
            let f: FuncImpl = match name {
                "mv_first" => mv::first,
                "mv_last" => mv::last,
                "mv_min" => mv::min,
                "mv_max" => mv::max,
                _ => mv::dedupe,
            };
            (f, true, first)
        }
        "mv_sum" | "mv_avg" | "mv_median" => {
            w(args, 1, 1)?;
            check_arg(src, span, args, 0, numeric_ty, "numeric")?;
            let (f, ty): (FuncImpl, DataType) = match name {
                "mv_sum" => (mv::sum, first),
                "mv_avg" => (mv::avg, T::Double),
                _ => (mv::median, first),
            };
            (f, true, ty)
        }
        "mv_sort" => {
            w(args, 1, 2)?;
            (mv::sort, true, first)
        }
        "mv_slice" => {
            w(args, 2, 3)?;
            (mv::slice, true, first)
        }
        "mv_concat" => {
            w(args, 2, 2)?;
            (mv::concat, true, T::Keyword)
        }
        "mv_contains" => {
            w(args, 2, 2)?;
            let ty = args[0].ty;
            coerce_literal(&mut args[1], ty);
            (mv::contains, true, T::Boolean)
        }
        "mv_append" => {
            w(args, 2, 2)?;
            let ty = common_type(args);
            (mv::append, true, ty)
        }
        "mv_intersection" | "mv_union" => {
            w(args, 2, 2)?;
            let f: FuncImpl = if name == "mv_union" {
                mv::union
            } else {
                mv::intersection
            };
            (f, true, common_type(args))
        }
        "mv_like" | "mv_rlike" => {
            w(args, 2, 2)?;
            let f: FuncImpl = if name == "mv_like" {
                mv::like
            } else {
                mv::rlike
            };
            (f, true, T::Boolean)
        }
        "mv_zip" => {
            w(args, 2, 3)?;
            (mv::zip, true, T::Keyword)
        }
        _ => return geo_fn(name, args, src, span),
    };
    Ok(Some(r))
}

fn geo_fn(name: &str, args: &mut [CExpr], src: &str, span: &Span) -> Result<Resolved, EsqlError> {
    use DataType as T;
    let geo = |t: DataType| t == T::GeoPoint;
    let r: (FuncImpl, bool, DataType) = match name {
        "to_geopoint" => {
            want(src, span, args, 1, 1, name)?;
            check_arg(
                src,
                span,
                args,
                0,
                |t| t.is_string() || t == T::GeoPoint,
                "geo_point or string",
            )?;
            (geo::to_geopoint, false, T::GeoPoint)
        }
        "st_x" | "st_y" => {
            want(src, span, args, 1, 1, name)?;
            check_arg(src, span, args, 0, geo, "geo_point")?;
            let f: FuncImpl = if name == "st_x" { geo::st_x } else { geo::st_y };
            (f, false, T::Double)
        }
        "st_distance" => {
            want(src, span, args, 2, 2, name)?;
            check_arg(src, span, args, 0, geo, "geo_point")?;
            check_arg(src, span, args, 1, geo, "geo_point")?;
            (geo::st_distance, false, T::Double)
        }
        _ => return Ok(None),
    };
    Ok(Some(r))
}

fn conversion_fn(name: &str) -> Option<(FuncImpl, bool, DataType)> {
    use DataType as T;
    let to = match name {
        "to_string" | "to_str" => T::Keyword,
        "to_integer" | "to_int" => T::Integer,
        "to_long" => T::Long,
        "to_double" | "to_dbl" => T::Double,
        "to_boolean" | "to_bool" => T::Boolean,
        "to_datetime" | "to_dt" => T::Date,
        "to_ip" => T::Ip,
        "to_version" | "to_ver" => T::Version,
        "to_unsigned_long" | "to_ul" | "to_ulong" => T::UnsignedLong,
        "to_timeduration" => T::TimeDuration,
        "to_dateperiod" => T::DatePeriod,
        _ => return None,
    };
    Some(conversion(to, &mut []))
}

// ---- helpers shared with the evaluator ----

/// `LIKE` pattern → anchored regex: `*` any run, `?` one character, `\` escapes.
pub(crate) fn like_regex(p: &str) -> Result<regex::Regex, String> {
    let mut out = String::from("(?s)^");
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '\\' => match chars.next() {
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => {
                    return Err(format!(
                        "Invalid sequence - escape character is not followed by special wildcard char in pattern [{p}]"
                    ));
                }
            },
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    regex::RegexBuilder::new(&out)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| e.to_string())
}

/// `RLIKE` pattern (Lucene regular expression), always a full match.
pub(crate) fn lucene_regex(p: &str) -> Result<regex::Regex, String> {
    crate::query::eql::lucene::compile(&lucene_literals(p), false)
}

/// Lucene reads a repeat operator with nothing before it (`*sh`) as a literal character; `&`
/// (intersection) is read as a literal too, which this engine cannot intersect.
fn lucene_literals(p: &str) -> String {
    let mut out = String::new();
    let mut atom = false;
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
                atom = true;
            }
            '"' => {
                out.push(c);
                for n in chars.by_ref() {
                    out.push(n);
                    if n == '"' {
                        break;
                    }
                }
                atom = true;
            }
            '[' => {
                out.push(c);
                let mut first = true;
                while let Some(n) = chars.next() {
                    out.push(n);
                    if n == '\\' {
                        if let Some(m) = chars.next() {
                            out.push(m);
                        }
                    } else if n == ']' && !first {
                        break;
                    }
                    first = false;
                }
                atom = true;
            }
            '*' | '+' | '?' | '{' if !atom => {
                out.push('\\');
                out.push(c);
                atom = true;
            }
            '&' => {
                out.push_str("\\&");
                atom = true;
            }
            '(' | '|' => {
                out.push(c);
                atom = false;
            }
            '{' => {
                out.push(c);
                for n in chars.by_ref() {
                    out.push(n);
                    if n == '}' {
                        break;
                    }
                }
            }
            _ => {
                out.push(c);
                atom = true;
            }
        }
    }
    out
}

/// `1 hour`, `3 months` → a value and its type.
pub(crate) fn span_value(n: i64, unit: &str) -> Option<(Value, DataType)> {
    let u = unit.to_ascii_lowercase();
    let dur = |ms: i64| Some((Value::Duration(n.checked_mul(ms)?), DataType::TimeDuration));
    let per = |m: i64, d: i64| {
        Some((
            Value::Period(n.checked_mul(m)?, n.checked_mul(d)?),
            DataType::DatePeriod,
        ))
    };
    match u.as_str() {
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => dur(1),
        "second" | "seconds" | "sec" | "secs" | "s" => dur(1000),
        "minute" | "minutes" | "min" | "mins" | "m" => dur(60_000),
        "hour" | "hours" | "h" => dur(3_600_000),
        "day" | "days" | "d" => per(0, 1),
        "week" | "weeks" | "w" => per(0, 7),
        "month" | "months" | "mo" => per(1, 0),
        "quarter" | "quarters" | "q" => per(3, 0),
        "year" | "years" | "yr" | "yrs" | "y" => per(12, 0),
        _ => None,
    }
}

/// `"1 day"`, `"3 hours"` as text.
pub(crate) fn parse_span_text(s: &str) -> Option<(Value, DataType)> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '-')?;
    let n: i64 = s[..split].trim().parse().ok()?;
    span_value(n, s[split..].trim())
}

pub(crate) fn convert_num(v: &Value, ty: DataType) -> Value {
    match (v, ty) {
        (Value::Int(i), DataType::Double) => Value::Double(*i as f64),
        (Value::ULong(u), DataType::Double) => Value::Double(*u as f64),
        _ => v.clone(),
    }
}

pub(crate) fn negate(v: &Value, ty: DataType) -> Result<Value, String> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int(i) => {
            let n = i.checked_neg().ok_or_else(|| overflow(ty))?;
            if ty == DataType::Integer && i32::try_from(n).is_err() {
                return Err(overflow(ty));
            }
            Value::Int(n)
        }
        Value::Double(d) => Value::Double(-d),
        Value::ULong(0) => Value::ULong(0),
        Value::ULong(_) => return Err(overflow(ty)),
        Value::Period(m, d) => Value::Period(-m, -d),
        Value::Duration(ms) => Value::Duration(-ms),
        other => other.clone(),
    })
}

fn overflow(ty: DataType) -> String {
    format!("java.lang.ArithmeticException: {} overflow", ty.name())
}

pub(crate) fn arith(
    op: BinOp,
    a: &Value,
    b: &Value,
    lt: DataType,
    rt: DataType,
    ty: DataType,
) -> Result<Value, String> {
    match ty {
        DataType::Date => dates::date_arith(op, a, b, lt, rt),
        DataType::DatePeriod => match (a, b) {
            (Value::Period(m1, d1), Value::Period(m2, d2)) => Ok(if op == BinOp::Add {
                Value::Period(m1 + m2, d1 + d2)
            } else {
                Value::Period(m1 - m2, d1 - d2)
            }),
            _ => Ok(Value::Null),
        },
        DataType::TimeDuration => match (a, b) {
            (Value::Duration(x), Value::Duration(y)) => Ok(Value::Duration(if op == BinOp::Add {
                x + y
            } else {
                x - y
            })),
            _ => Ok(Value::Null),
        },
        DataType::Double => {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            let r = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => {
                    if y == 0.0 {
                        return Err("java.lang.ArithmeticException: / by zero".into());
                    }
                    x / y
                }
                _ => {
                    if y == 0.0 {
                        return Err("java.lang.ArithmeticException: / by zero".into());
                    }
                    x % y
                }
            };
            if !r.is_finite() {
                return Err("java.lang.ArithmeticException: not a finite double number".into());
            }
            Ok(Value::Double(r))
        }
        DataType::UnsignedLong => {
            let x = match a {
                Value::ULong(u) => *u,
                Value::Int(i) => *i as u64,
                _ => 0,
            };
            let y = match b {
                Value::ULong(u) => *u,
                Value::Int(i) => *i as u64,
                _ => 0,
            };
            let r = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::Div if y == 0 => {
                    return Err("java.lang.ArithmeticException: / by zero".into());
                }
                BinOp::Div => Some(x / y),
                _ if y == 0 => return Err("java.lang.ArithmeticException: / by zero".into()),
                _ => Some(x % y),
            };
            r.map(Value::ULong).ok_or_else(|| overflow(ty))
        }
        _ => {
            let (Value::Int(x), Value::Int(y)) = (a, b) else {
                return Ok(Value::Null);
            };
            let r = match op {
                BinOp::Add => x.checked_add(*y),
                BinOp::Sub => x.checked_sub(*y),
                BinOp::Mul => x.checked_mul(*y),
                BinOp::Div if *y == 0 => {
                    return Err("java.lang.ArithmeticException: / by zero".into());
                }
                BinOp::Div => x.checked_div(*y),
                _ if *y == 0 => return Err("java.lang.ArithmeticException: / by zero".into()),
                _ => x.checked_rem(*y),
            };
            let r = r.ok_or_else(|| overflow(ty))?;
            if ty == DataType::Integer && i32::try_from(r).is_err() {
                return Err(overflow(ty));
            }
            Ok(Value::Int(r))
        }
    }
}
