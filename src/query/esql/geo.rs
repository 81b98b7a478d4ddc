//! `geo_point` values and the functions the detection rules use on them: `TO_GEOPOINT`,
//! `ST_X`, `ST_Y` and `ST_DISTANCE`. A point is held as its WKT text, `POINT (lon lat)`, which
//! is also how Elasticsearch returns it; geo shapes and cartesian types stay unsupported.

use super::eval::Ctx;
use super::types::{DataType, Value};

/// The mean Earth radius Elasticsearch's geo distances use, in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.771_4;

/// `POINT (lon lat)` (any case and spacing), or a `"lat,lon"` string as in a source document.
pub(crate) fn parse_point(s: &str) -> Option<(f64, f64)> {
    let t = s.trim();
    let (lon, lat) = if t.len() > 5 && t[..5].eq_ignore_ascii_case("point") {
        let inner = t[5..].trim().strip_prefix('(')?.strip_suffix(')')?;
        let mut it = inner.split_whitespace();
        let lon: f64 = it.next()?.parse().ok()?;
        let lat: f64 = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        (lon, lat)
    } else {
        let (lat, lon) = t.split_once(',')?;
        (lon.trim().parse().ok()?, lat.trim().parse().ok()?)
    };
    let valid = (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat);
    valid.then_some((lon, lat))
}

/// The WKT of a point, with Java's shortest double text as Elasticsearch prints it.
pub(crate) fn point(lon: f64, lat: f64) -> Value {
    Value::Str(format!(
        "POINT ({} {})",
        super::types::java_double(lon),
        super::types::java_double(lat)
    ))
}

/// A source document's geo_point: `{"lat": …, "lon": …}`, `"lat,lon"`, WKT or `[lon, lat]`.
pub(crate) fn from_json(v: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    let (lon, lat) = match v {
        J::Object(m) => (m.get("lon")?.as_f64()?, m.get("lat")?.as_f64()?),
        J::String(s) => parse_point(s)?,
        J::Array(a) if a.len() == 2 => (a[0].as_f64()?, a[1].as_f64()?),
        _ => return None,
    };
    Some(point(lon, lat))
}

fn coords(v: &Value) -> Result<(f64, f64), String> {
    match v {
        Value::Str(s) => parse_point(s).ok_or_else(|| format!("invalid geo_point [{s}]")),
        _ => Err("not a geo_point".into()),
    }
}

pub(crate) fn to_geopoint(a: &[Value], _: &[DataType], _: &Ctx) -> Result<Value, String> {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::Str(s) => parse_point(s)
            .map(|(lon, lat)| point(lon, lat))
            .ok_or_else(|| format!("java.lang.IllegalArgumentException: Failed to parse WKT: {s}")),
        _ => Err("not a geo_point".into()),
    }
}

pub(crate) fn st_x(a: &[Value], _: &[DataType], _: &Ctx) -> Result<Value, String> {
    if a[0] == Value::Null {
        return Ok(Value::Null);
    }
    Ok(Value::Double(coords(&a[0])?.0))
}

pub(crate) fn st_y(a: &[Value], _: &[DataType], _: &Ctx) -> Result<Value, String> {
    if a[0] == Value::Null {
        return Ok(Value::Null);
    }
    Ok(Value::Double(coords(&a[0])?.1))
}

/// Haversine distance in metres.
pub(crate) fn st_distance(a: &[Value], _: &[DataType], _: &Ctx) -> Result<Value, String> {
    if a[0] == Value::Null || a[1] == Value::Null {
        return Ok(Value::Null);
    }
    let (lon1, lat1) = coords(&a[0])?;
    let (lon2, lat2) = coords(&a[1])?;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dlat = p2 - p1;
    let dlon = (lon2 - lon1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlon / 2.0).sin().powi(2);
    Ok(Value::Double(
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_from_wkt_and_lat_lon_text_and_reject_the_rest() {
        assert_eq!(parse_point("POINT (-73.9 40.7)"), Some((-73.9, 40.7)));
        assert_eq!(parse_point("point(2.35 48.85)"), Some((2.35, 48.85)));
        assert_eq!(parse_point("40.7,-73.9"), Some((-73.9, 40.7)));
        assert_eq!(
            parse_point("POINT (200 10)"),
            None,
            "longitude out of range"
        );
        assert_eq!(parse_point("LINESTRING (1 2, 3 4)"), None);
        assert_eq!(
            from_json(&serde_json::json!({"lat": 51.5, "lon": -0.12})),
            Some(Value::Str("POINT (-0.12 51.5)".into()))
        );
    }

    #[test]
    fn distance_is_the_haversine_on_the_mean_earth_radius() {
        let ctx = Ctx::new("", 0);
        let d = |a: &str, b: &str| match st_distance(
            &[Value::Str(a.into()), Value::Str(b.into())],
            &[],
            &ctx,
        ) {
            Ok(Value::Double(x)) => x,
            other => panic!("{other:?}"),
        };
        assert_eq!(d("POINT (0 0)", "POINT (0 0)"), 0.0);
        // One degree of latitude is radius * pi / 180.
        let one = d("POINT (10 0)", "POINT (10 1)");
        assert!((one - EARTH_RADIUS_M * std::f64::consts::PI / 180.0).abs() < 1e-6);
        // Paris to New York, about 5,837 km.
        let pny = d("POINT (2.3522 48.8566)", "POINT (-74.006 40.7128)");
        assert!((5_830_000.0..5_845_000.0).contains(&pny), "{pny}");
    }
}
