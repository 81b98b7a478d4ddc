//! The processing commands, each a step from one [`Table`] to the next.

use super::aggs::{self, Agg, AggKind};
use super::ast::{Command, CommandKind, Expr, ExprKind, Field, NamePattern, SortKey, Span};
use super::error::EsqlError;
use super::eval::{CExpr, Column, Ctx, Resolver, lc};
use super::types::{DataType, Value, cmp_scalar};
use super::{Table, dissect, grok};
use crate::query::wildcard::Matcher;
use std::cmp::Ordering;
use std::collections::HashMap;

pub(crate) fn apply(cmd: &Command, t: Table, ctx: &Ctx) -> Result<Table, EsqlError> {
    *ctx.columns.borrow_mut() = t.columns.clone();
    match &cmd.kind {
        CommandKind::Where(e) => where_(e, t, ctx),
        CommandKind::Eval(fields) => eval(fields, t, ctx),
        CommandKind::Keep(p) => keep(p, t, ctx),
        CommandKind::Drop(p) => drop(p, t, ctx),
        CommandKind::Rename(p) => rename(p, t, ctx.src),
        CommandKind::Sort(keys) => sort(keys, t, ctx),
        CommandKind::Limit(n) => {
            let mut t = t;
            t.rows.truncate(*n);
            Ok(t)
        }
        CommandKind::MvExpand(p) => mv_expand(p, t, ctx.src),
        CommandKind::Stats { aggs, by, inline } => stats(aggs, by, *inline, t, ctx),
        CommandKind::Grok { input, pattern } => grok::apply(input, pattern, t, ctx),
        CommandKind::Dissect {
            input,
            pattern,
            append_separator,
        } => dissect::apply(input, pattern, append_separator.as_deref(), t, ctx),
        CommandKind::Unsupported(name) => {
            let why = if name == "COMPLETION" {
                " (it calls an inference endpoint, which offline replay does not have)"
            } else {
                ""
            };
            Err(EsqlError::unsupported(
                format!("{}: {name} is not supported{why}", lc(ctx.src, &cmd.span)),
                cmd.span.clone(),
            ))
        }
        CommandKind::From { .. } | CommandKind::Row(_) => Err(EsqlError::syntax(
            format!("{} can only start a query", cmd.name()),
            cmd.span.clone(),
        )),
    }
}

fn resolver<'a>(t: &'a Table, ctx: &'a Ctx) -> Resolver<'a> {
    Resolver {
        columns: &t.columns,
        src: ctx.src,
    }
}

fn where_(e: &Expr, mut t: Table, ctx: &Ctx) -> Result<Table, EsqlError> {
    let c = resolver(&t, ctx).boolean(e)?;
    t.rows.retain(|r| c.eval(r, ctx) == Value::Bool(true));
    Ok(t)
}

/// The input of GROK or DISSECT (`command`): a string (or null) expression over the table.
pub(crate) fn string_input(
    command: &str,
    input: &Expr,
    t: &Table,
    ctx: &Ctx,
) -> Result<CExpr, EsqlError> {
    let src = Resolver {
        columns: &t.columns,
        src: ctx.src,
    }
    .resolve(input)?;
    if !(src.ty.is_string() || src.ty == DataType::Null) {
        return Err(EsqlError::verify(
            format!(
                "{command} only supports KEYWORD or TEXT values, found expression [{}] type [{}]",
                ctx.src.get(input.span.clone()).unwrap_or(""),
                src.ty.name()
            ),
            input.span.clone(),
        ));
    }
    Ok(src)
}

/// Adds a column; an existing one of the same name is removed (the new one shadows it).
pub(crate) fn set_column(t: &mut Table, name: &str, ty: DataType, values: Vec<Value>) {
    if let Some(i) = t.columns.iter().position(|c| c.name == name) {
        t.columns.remove(i);
        for r in &mut t.rows {
            r.remove(i);
        }
    }
    t.columns.push(Column {
        name: name.to_string(),
        ty,
    });
    for (r, v) in t.rows.iter_mut().zip(values) {
        r.push(v);
    }
}

pub(crate) fn eval(fields: &[Field], mut t: Table, ctx: &Ctx) -> Result<Table, EsqlError> {
    for f in fields {
        let c = resolver(&t, ctx).resolve(&f.expr)?;
        *ctx.columns.borrow_mut() = t.columns.clone();
        let values: Vec<Value> = t.rows.iter().map(|r| c.eval(r, ctx)).collect();
        set_column(&mut t, &f.name, c.ty, values);
    }
    Ok(t)
}

fn matcher(p: &NamePattern) -> Option<Matcher> {
    p.text.contains('*').then(|| Matcher::from_glob(&p.text))
}

fn unknown(p: &NamePattern, src: &str) -> EsqlError {
    let what = if p.text.contains('*') {
        format!("No matches found for pattern [{}]", p.text)
    } else {
        format!("Unknown column [{}]", p.text)
    };
    EsqlError::verify(format!("{}: {what}", lc(src, &p.span)), p.span.clone())
}

fn project(t: Table, order: &[usize]) -> Table {
    let columns = order.iter().map(|&i| t.columns[i].clone()).collect();
    let rows = t
        .rows
        .into_iter()
        .map(|r| order.iter().map(|&i| r[i].clone()).collect())
        .collect();
    Table { columns, rows }
}

fn keep(patterns: &[NamePattern], t: Table, ctx: &Ctx) -> Result<Table, EsqlError> {
    // Per column: the pattern that claims it (exact name > partial wildcard > `*`; among equals
    // the last one), and its position.
    let mut claim: Vec<Option<(u8, usize)>> = vec![None; t.columns.len()];
    for (pi, p) in patterns.iter().enumerate() {
        let m = matcher(p);
        let prio = if m.is_none() {
            2
        } else if p.text == "*" {
            0
        } else {
            1
        };
        let mut any = false;
        for (ci, c) in t.columns.iter().enumerate() {
            let hit = match &m {
                Some(m) => m.is_match(&c.name),
                None => c.name == p.text,
            };
            if hit {
                any = true;
                if claim[ci].is_none_or(|(pr, _)| prio >= pr) {
                    claim[ci] = Some((prio, pi));
                }
            }
        }
        if !(any || ctx.lenient_patterns && p.text.contains('*')) {
            return Err(unknown(p, ctx.src));
        }
    }
    let mut order: Vec<(usize, usize)> = claim
        .iter()
        .enumerate()
        .filter_map(|(ci, c)| c.map(|(_, pi)| (pi, ci)))
        .collect();
    order.sort();
    Ok(project(
        t,
        &order.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
    ))
}

fn drop(patterns: &[NamePattern], t: Table, ctx: &Ctx) -> Result<Table, EsqlError> {
    let mut gone = vec![false; t.columns.len()];
    for p in patterns {
        let m = matcher(p);
        let mut any = false;
        for (ci, c) in t.columns.iter().enumerate() {
            let hit = match &m {
                Some(m) => m.is_match(&c.name),
                None => c.name == p.text,
            };
            if hit {
                gone[ci] = true;
                any = true;
            }
        }
        if !(any || ctx.lenient_patterns && p.text.contains('*')) {
            return Err(unknown(p, ctx.src));
        }
    }
    let order: Vec<usize> = (0..t.columns.len()).filter(|&i| !gone[i]).collect();
    Ok(project(t, &order))
}

fn rename(
    pairs: &[(NamePattern, NamePattern)],
    mut t: Table,
    src: &str,
) -> Result<Table, EsqlError> {
    for (from, to) in pairs {
        let Some(i) = t.columns.iter().position(|c| c.name == from.text) else {
            return Err(unknown(from, src));
        };
        if from.text == to.text {
            continue;
        }
        t.columns[i].name = to.text.clone();
        if let Some(j) = t
            .columns
            .iter()
            .position(|c| c.name == to.text && !std::ptr::eq(c, &t.columns[i]))
        {
            if j != i {
                t.columns.remove(j);
                for r in &mut t.rows {
                    r.remove(j);
                }
            }
        }
    }
    Ok(t)
}

fn sort(keys: &[SortKey], mut t: Table, ctx: &Ctx) -> Result<Table, EsqlError> {
    let r = resolver(&t, ctx);
    let compiled: Vec<(CExpr, &SortKey)> = keys
        .iter()
        .map(|k| r.resolve(&k.expr).map(|c| (c, k)))
        .collect::<Result<_, _>>()?;
    let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = t
        .rows
        .drain(..)
        .map(|row| {
            let ks = compiled
                .iter()
                .map(|(c, k)| sort_value(c.eval(&row, ctx), k.descending, c.ty))
                .collect();
            (ks, row)
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, (c, k)) in compiled.iter().enumerate() {
            let nulls_first = k.nulls_first.unwrap_or(k.descending);
            let o = match (a[i].is_null(), b[i].is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                _ => {
                    let o = cmp_scalar(&a[i], &b[i], c.ty);
                    if k.descending { o.reverse() } else { o }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    t.rows = keyed.into_iter().map(|(_, r)| r).collect();
    Ok(t)
}

/// Multi-values sort by their minimum ascending, their maximum descending.
fn sort_value(v: Value, descending: bool, ty: DataType) -> Value {
    match v {
        Value::Multi(items) => {
            let want = if descending {
                Ordering::Greater
            } else {
                Ordering::Less
            };
            items
                .into_iter()
                .reduce(|a, b| if cmp_scalar(&b, &a, ty) == want { b } else { a })
                .unwrap_or(Value::Null)
        }
        v => v,
    }
}

fn mv_expand(p: &NamePattern, t: Table, src: &str) -> Result<Table, EsqlError> {
    let Some(i) = t.columns.iter().position(|c| c.name == p.text) else {
        return Err(unknown(p, src));
    };
    let mut rows = Vec::with_capacity(t.rows.len());
    for r in t.rows {
        match &r[i] {
            Value::Multi(items) => {
                for it in items {
                    let mut nr = r.clone();
                    nr[i] = it.clone();
                    rows.push(nr);
                }
            }
            _ => rows.push(r),
        }
    }
    // The expanded column moves to the end, as Elasticsearch's plan places it.
    let mut t = Table {
        columns: t.columns,
        rows,
    };
    let col = t.columns.remove(i);
    t.columns.push(col);
    for r in &mut t.rows {
        let v = r.remove(i);
        r.push(v);
    }
    Ok(t)
}

/// Replaces aggregate calls inside an expression by references to `$$aggN` columns.
fn extract_aggs(
    e: &Expr,
    input: &Resolver,
    filter: Option<&CExpr>,
    aggs: &mut Vec<Agg>,
    src: &str,
) -> Result<Expr, EsqlError> {
    let mut e = e.clone();
    rewrite(&mut e, input, filter, aggs, src)?;
    Ok(e)
}

fn rewrite(
    e: &mut Expr,
    input: &Resolver,
    filter: Option<&CExpr>,
    aggs: &mut Vec<Agg>,
    src: &str,
) -> Result<(), EsqlError> {
    if let ExprKind::Call { name, args } = &e.kind {
        if let Some(kind) = aggs::kind_of(name) {
            let agg = resolve_agg(kind, name, args, e.span.clone(), input, filter, src)?;
            let n = aggs.len();
            aggs.push(agg);
            e.kind = ExprKind::Field(format!("$$agg{n}"));
            return Ok(());
        }
    }
    match &mut e.kind {
        ExprKind::Call { args, .. } => {
            for a in args {
                rewrite(a, input, filter, aggs, src)?;
            }
        }
        ExprKind::Neg(x) | ExprKind::Not(x) => rewrite(x, input, filter, aggs, src)?,
        ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr, .. } => {
            rewrite(expr, input, filter, aggs, src)?
        }
        ExprKind::Binary { left, right, .. } => {
            rewrite(left, input, filter, aggs, src)?;
            rewrite(right, input, filter, aggs, src)?;
        }
        ExprKind::In { expr, list, .. } => {
            rewrite(expr, input, filter, aggs, src)?;
            for a in list {
                rewrite(a, input, filter, aggs, src)?;
            }
        }
        ExprKind::Like { expr, .. } => rewrite(expr, input, filter, aggs, src)?,
        _ => {}
    }
    Ok(())
}

fn resolve_agg(
    kind: AggKind,
    name: &str,
    args: &[Expr],
    span: Span,
    input: &Resolver,
    filter: Option<&CExpr>,
    src: &str,
) -> Result<Agg, EsqlError> {
    let mut kind = kind;
    let mut arg = None;
    let mut extra = Vec::new();
    match args.first().map(|a| &a.kind) {
        Some(ExprKind::Star) if kind == AggKind::Count => kind = AggKind::CountStar,
        Some(_) => arg = Some(input.resolve(&args[0])?),
        None if kind == AggKind::Count => kind = AggKind::CountStar,
        None => {
            return Err(EsqlError::verify(
                format!(
                    "{}: wrong number of arguments for [{}]",
                    lc(src, &span),
                    name.to_ascii_uppercase()
                ),
                span,
            ));
        }
    }
    for a in args.iter().skip(1) {
        if let ExprKind::Call { name, .. } = &a.kind {
            if aggs::kind_of(name).is_some() {
                return Err(EsqlError::verify(
                    "nested aggregations are not allowed",
                    a.span.clone(),
                ));
            }
        }
        extra.push(input.resolve(a)?);
    }
    if matches!(kind, AggKind::First | AggKind::Last) && extra.len() != 1 {
        return Err(EsqlError::verify(
            format!(
                "{}: [{}] takes a value and a sort field",
                lc(src, &span),
                name.to_ascii_uppercase()
            ),
            span,
        ));
    }
    // COUNT(literal) counts rows (times the literal's values).
    let arg_ty = arg.as_ref().map_or(DataType::Null, |a| a.ty);
    let ty = aggs::result_type(kind, arg_ty, src, &span)?;
    Ok(Agg {
        kind,
        arg,
        extra,
        filter: filter.cloned(),
        ty,
        span,
    })
}

type GroupKey = Vec<Value>;

fn stats(
    aggs_in: &[Field],
    by: &[Field],
    inline: bool,
    t: Table,
    ctx: &Ctx,
) -> Result<Table, EsqlError> {
    // A name given twice: the last one wins, with Elasticsearch's warning.
    let all: Vec<&Field> = aggs_in.iter().chain(by).collect();
    for (i, f) in all.iter().enumerate() {
        if let Some(later) = all[i + 1..].iter().find(|g| g.name == f.name) {
            let (l, c) = super::eval::line_col(ctx.src, later.name_span.start);
            ctx.warnings.borrow_mut().add_plain(format!(
                "Line {}: Field '{}' shadowed by field at line {l}:{c}",
                lc(ctx.src, &f.name_span),
                f.name
            ));
        }
    }
    // Named groupings (`BY l = languages`) are columns the aggregates may use too.
    let aliases: Vec<Field> = by
        .iter()
        .filter(|f| !matches!(&f.expr.kind, ExprKind::Field(n) if *n == f.name))
        .cloned()
        .collect();
    let t = if aliases.is_empty() {
        t
    } else {
        eval(&aliases, t, ctx)?
    };
    let input = resolver(&t, ctx);
    // Group keys, evaluated per input row.
    let mut keys: Vec<(String, CExpr)> = Vec::new();
    for f in by {
        let key = Expr {
            kind: ExprKind::Field(f.name.clone()),
            span: f.expr.span.clone(),
        };
        let c = input.resolve(&key)?;
        keys.push((f.name.clone(), c));
    }
    let mut aggs: Vec<Agg> = Vec::new();
    let mut outer: Vec<(String, Expr)> = Vec::new();
    for f in aggs_in {
        let filter = match &f.filter {
            Some(w) => Some(input.boolean(w)?),
            None => None,
        };
        let e = extract_aggs(&f.expr, &input, filter.as_ref(), &mut aggs, ctx.src)?;
        if !matches!(e.kind, ExprKind::Field(ref n) if n.starts_with("$$agg"))
            && !contains_agg_ref(&e)
        {
            // An expression over the group keys alone is allowed (`length(k) + 1`).
            let mut grouped = true;
            super::walk_expr(&e, &mut |x| {
                if let ExprKind::Field(f) = &x.kind {
                    grouped &= keys.iter().any(|(n, _)| n == f);
                }
            });
            if !grouped {
                return Err(EsqlError::verify(
                    format!(
                        "{}: expected an aggregate function but found [{}]",
                        lc(ctx.src, &f.expr.span),
                        ctx.src.get(f.expr.span.clone()).unwrap_or("")
                    ),
                    f.expr.span.clone(),
                ));
            }
        }
        outer.push((f.name.clone(), e));
    }
    // Group rows, a multi-valued key putting the row in each of its values' groups.
    let mut order: Vec<GroupKey> = Vec::new();
    let mut groups: HashMap<String, (usize, Vec<usize>)> = HashMap::new();
    for (ri, row) in t.rows.iter().enumerate() {
        let kv: Vec<Value> = keys.iter().map(|(_, c)| c.eval(row, ctx)).collect();
        for combo in combos(&kv) {
            let h = format!("{combo:?}");
            let n = order.len();
            let entry = groups.entry(h).or_insert_with(|| (n, Vec::new()));
            if entry.0 == n {
                order.push(combo);
            }
            entry.1.push(ri);
        }
    }
    if keys.is_empty() && order.is_empty() {
        order.push(Vec::new());
        groups.insert(format!("{:?}", Vec::<Value>::new()), (0, Vec::new()));
    }
    let mut by_index: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
    for (_, (i, rows)) in groups {
        by_index[i] = rows;
    }
    // Aggregate table: group key columns, then `$$aggN`.
    let mut agg_cols: Vec<Column> = keys
        .iter()
        .map(|(n, c)| Column {
            name: n.clone(),
            ty: c.ty,
        })
        .collect();
    for (i, a) in aggs.iter().enumerate() {
        agg_cols.push(Column {
            name: format!("$$agg{i}"),
            ty: a.ty,
        });
    }
    let mut agg_rows = Vec::new();
    for (gi, key) in order.iter().enumerate() {
        let rows: Vec<&Vec<Value>> = by_index[gi].iter().map(|&i| &t.rows[i]).collect();
        let mut r = key.clone();
        for a in &aggs {
            r.push(aggs::run(a, &rows, ctx));
        }
        agg_rows.push(r);
    }
    let agg_table = Table {
        columns: agg_cols,
        rows: agg_rows,
    };
    let outer_fields: Vec<Field> = outer
        .into_iter()
        .map(|(name, expr)| Field {
            name_span: expr.span.clone(),
            name,
            expr,
            filter: None,
        })
        .collect();
    let evaluated = eval(&outer_fields, agg_table, ctx)?;
    // Output: aggregates in order, then the group keys.
    let nk = keys.len();
    let mut out_order: Vec<usize> = Vec::new();
    for f in &outer_fields {
        if let Some(i) = evaluated.columns.iter().rposition(|c| c.name == f.name) {
            if !out_order.contains(&i) {
                out_order.push(i);
            }
        }
    }
    for (i, (n, _)) in keys.iter().enumerate().take(nk) {
        if !outer_fields.iter().any(|f| &f.name == n) {
            if let Some(i) = evaluated
                .columns
                .iter()
                .position(|c| c.name == *n)
                .or(Some(i))
            {
                if !out_order.contains(&i) {
                    out_order.push(i);
                }
            }
        }
    }
    let result = project(evaluated, &out_order);
    if !inline {
        return Ok(result);
    }
    inline_join(t, result, &keys, ctx)
}

fn contains_agg_ref(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(n) => n.starts_with("$$agg"),
        ExprKind::Call { args, .. } => args.iter().any(contains_agg_ref),
        ExprKind::Neg(x) | ExprKind::Not(x) => contains_agg_ref(x),
        ExprKind::IsNull { expr, .. }
        | ExprKind::Cast { expr, .. }
        | ExprKind::Like { expr, .. } => contains_agg_ref(expr),
        ExprKind::Binary { left, right, .. } => contains_agg_ref(left) || contains_agg_ref(right),
        ExprKind::In { expr, list, .. } => {
            contains_agg_ref(expr) || list.iter().any(contains_agg_ref)
        }
        _ => false,
    }
}

/// INLINE STATS: every input row keeps its columns and gains its group's aggregates.
fn inline_join(
    t: Table,
    result: Table,
    keys: &[(String, CExpr)],
    ctx: &Ctx,
) -> Result<Table, EsqlError> {
    let nk = keys.len();
    let agg_n = result.columns.len() - nk;
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, r) in result.rows.iter().enumerate() {
        index.insert(format!("{:?}", &r[agg_n..]), i);
    }
    let mut out = t.clone();
    let mut new_cols: Vec<(String, DataType, Vec<Value>)> = result.columns[..agg_n]
        .iter()
        .map(|c| (c.name.clone(), c.ty, Vec::new()))
        .collect();
    for (kname, kc) in keys {
        if !t.columns.iter().any(|c| &c.name == kname) {
            new_cols.push((kname.clone(), kc.ty, Vec::new()));
        }
    }
    for row in &t.rows {
        let kv: Vec<Value> = keys.iter().map(|(_, c)| c.eval(row, ctx)).collect();
        let hit = index.get(&format!("{kv:?}")).map(|&i| &result.rows[i]);
        for (ci, col) in new_cols.iter_mut().enumerate() {
            let v = if ci < agg_n {
                hit.map_or(Value::Null, |r| r[ci].clone())
            } else {
                let k = keys.iter().position(|(n, _)| *n == col.0).unwrap_or(0);
                kv.get(k).cloned().unwrap_or(Value::Null)
            };
            col.2.push(v);
        }
    }
    for (name, ty, vals) in new_cols {
        set_column(&mut out, &name, ty, vals);
    }
    Ok(out)
}

/// The cartesian product of multi-valued keys (a null key is one group).
fn combos(kv: &[Value]) -> Vec<GroupKey> {
    let mut out: Vec<GroupKey> = vec![Vec::new()];
    for v in kv {
        let items: Vec<Value> = match v {
            Value::Multi(items) => items.clone(),
            other => vec![other.clone()],
        };
        let mut next = Vec::with_capacity(out.len() * items.len());
        for prefix in &out {
            for it in &items {
                let mut p = prefix.clone();
                p.push(it.clone());
                next.push(p);
            }
        }
        out = next;
    }
    out
}
