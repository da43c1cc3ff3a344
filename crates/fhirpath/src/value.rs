//! FHIRPath values: collection items, exact decimals, partial dates and times,
//! quantities.

use std::cmp::Ordering;
use std::fmt;

use fhir_runtime::Node;

/// One item of a FHIRPath collection: a node of the tree (borrowed, never cloned)
/// or a system value computed by the expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Item<'a> {
    /// An element or resource of the tree.
    Node(&'a Node),
    /// `System.Boolean`
    Boolean(bool),
    /// `System.Integer`
    Integer(i64),
    /// `System.Decimal`, exact.
    Decimal(Decimal),
    /// `System.String`
    String(String),
    /// `System.Date` (year, month or day precision).
    Date(PartialTemporal),
    /// `System.DateTime` (any precision, optional time zone).
    DateTime(PartialTemporal),
    /// `System.Time`
    Time(PartialTemporal),
    /// `System.Quantity`
    Quantity(Quantity),
}

impl<'a> Item<'a> {
    /// The item as a system value: a FHIR primitive node converts by its type
    /// (`boolean`, `integer`, `decimal`, `date`, `dateTime`/`instant`, `time`, the
    /// string types), a `Quantity`-like node to a quantity; system values stay as
    /// they are. `None` for a complex node, or a primitive without a value.
    pub fn to_system(&self) -> Option<Item<'a>> {
        match self {
            Item::Node(n) => node_to_system(n),
            other => Some(other.clone()),
        }
    }

    /// The name of the item's type, for messages (`System.Integer`, `FHIR.Patient`).
    pub fn type_label(&self) -> String {
        match self {
            Item::Node(n) => format!("FHIR.{}", crate::types::fhir_type_of(n)),
            Item::Boolean(_) => "System.Boolean".into(),
            Item::Integer(_) => "System.Integer".into(),
            Item::Decimal(_) => "System.Decimal".into(),
            Item::String(_) => "System.String".into(),
            Item::Date(_) => "System.Date".into(),
            Item::DateTime(_) => "System.DateTime".into(),
            Item::Time(_) => "System.Time".into(),
            Item::Quantity(_) => "System.Quantity".into(),
        }
    }

    /// The node, if the item is one.
    pub fn as_node(&self) -> Option<&'a Node> {
        match self {
            Item::Node(n) => Some(n),
            _ => None,
        }
    }
}

fn node_to_system<'a>(n: &'a Node) -> Option<Item<'a>> {
    if n.is_primitive() {
        let v = n.value.as_deref()?;
        return Some(match n.type_name {
            "boolean" => match v {
                "true" => Item::Boolean(true),
                "false" => Item::Boolean(false),
                _ => Item::String(v.to_string()),
            },
            "integer" | "positiveInt" | "unsignedInt" => match v.parse::<i64>() {
                Ok(i) => Item::Integer(i),
                Err(_) => Item::String(v.to_string()),
            },
            "decimal" => match Decimal::parse(v) {
                Some(d) => Item::Decimal(d),
                None => Item::String(v.to_string()),
            },
            "date" => match PartialTemporal::parse_date_time(v) {
                Some(t) => Item::Date(t),
                None => Item::String(v.to_string()),
            },
            "dateTime" | "instant" => match PartialTemporal::parse_date_time(v) {
                Some(t) if t.hour.is_some() => Item::DateTime(t),
                Some(t) => Item::DateTime(t),
                None => Item::String(v.to_string()),
            },
            "time" => match PartialTemporal::parse_time(v) {
                Some(t) => Item::Time(t),
                None => Item::String(v.to_string()),
            },
            _ => Item::String(v.to_string()),
        });
    }
    if crate::types::is_quantity_type(n.type_name) {
        let value = n.child_value("value").and_then(Decimal::parse)?;
        let unit = n
            .child_value("code")
            .or_else(|| n.child_value("unit"))
            .unwrap_or("1");
        return Some(Item::Quantity(Quantity {
            value,
            unit: unit.to_string(),
        }));
    }
    None
}

/// An exact decimal: `mantissa × 10^-scale` (`1.50` is 150 with scale 2, so the
/// written precision is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The digits as an integer.
    pub mantissa: i128,
    /// How many of the digits are after the decimal point.
    pub scale: u32,
}

const MAX_SCALE: u32 = 30;

impl Decimal {
    /// Parses `-12.50`, `3`, `1e-3` (FHIR JSON's decimal syntax). `None` when the
    /// text is not a decimal or has more precision than is kept (38 digits).
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (neg, rest) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (num, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i32>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = match num.split_once('.') {
            Some((i, f)) => (i, f),
            None => (num, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut m: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            m = m.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        let mut scale = frac.len() as i64 - i64::from(exp);
        while scale < 0 {
            m = m.checked_mul(10)?;
            scale += 1;
        }
        if scale > i64::from(MAX_SCALE) + 8 {
            return None;
        }
        Some(Decimal {
            mantissa: if neg { -m } else { m },
            scale: scale as u32,
        })
    }

    /// An integer as a decimal.
    pub fn from_i64(i: i64) -> Decimal {
        Decimal {
            mantissa: i128::from(i),
            scale: 0,
        }
    }

    /// The value as a float (for functions that need one).
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(self.scale as i32)
    }

    /// A float as a decimal with up to 8 decimal places.
    pub fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f:.8}");
        let s = s.trim_end_matches('0');
        let s = s.strip_suffix('.').unwrap_or(s);
        Decimal::parse(s)
    }

    fn rescale(self, scale: u32) -> Option<i128> {
        let mut m = self.mantissa;
        for _ in self.scale..scale {
            m = m.checked_mul(10)?;
        }
        Some(m)
    }

    /// Numeric comparison (`1.0` equals `1.00`).
    pub fn cmp_num(self, other: Decimal) -> Ordering {
        let s = self.scale.max(other.scale);
        match (self.rescale(s), other.rescale(s)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self
                .to_f64()
                .partial_cmp(&other.to_f64())
                .unwrap_or(Ordering::Equal),
        }
    }

    /// `self + other`, exact.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let s = self.scale.max(other.scale);
        Some(Decimal {
            // i128::MIN is never a mantissa, so negation and abs() cannot overflow
            mantissa: Some(self.rescale(s)?.checked_add(other.rescale(s)?)?)
                .filter(|m| *m != i128::MIN)?,
            scale: s,
        })
    }

    /// `self - other`, exact.
    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        self.checked_add(Decimal {
            mantissa: other.mantissa.checked_neg()?,
            scale: other.scale,
        })
    }

    /// `self * other`, exact.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let d = Decimal {
            mantissa: Some(self.mantissa.checked_mul(other.mantissa)?)
                .filter(|m| *m != i128::MIN)?,
            scale: self.scale + other.scale,
        };
        Some(if d.scale > MAX_SCALE {
            d.round(MAX_SCALE)
        } else {
            d
        })
    }

    /// `self / other` to 8 decimal places (trailing zeros removed); `None` for a
    /// division by zero.
    pub fn checked_div(self, other: Decimal) -> Option<Decimal> {
        if other.mantissa == 0 {
            return None;
        }
        // (a / 10^sa) / (b / 10^sb) = (a * 10^(sb + 8 + 1)) / b / 10^(sa + 8 + 1)
        let extra = other.scale + 9;
        let mut num = self.mantissa;
        for _ in 0..extra {
            num = num.checked_mul(10)?;
        }
        let q = num / other.mantissa;
        let d = Decimal {
            mantissa: q,
            scale: self.scale + 9,
        };
        Some(d.round(8).normalized())
    }

    /// Rounded half away from zero to at most `places` decimal places.
    pub fn round(self, places: u32) -> Decimal {
        if self.scale <= places {
            return self;
        }
        let mut m = self.mantissa;
        let mut s = self.scale;
        while s > places + 1 {
            m /= 10;
            s -= 1;
        }
        let last = m % 10;
        m /= 10;
        if last >= 5 {
            m += 1;
        } else if last <= -5 {
            m -= 1;
        }
        Decimal {
            mantissa: m,
            scale: places,
        }
    }

    /// Without trailing fractional zeros.
    pub fn normalized(self) -> Decimal {
        let mut d = self;
        while d.scale > 0 && d.mantissa % 10 == 0 {
            d.mantissa /= 10;
            d.scale -= 1;
        }
        d
    }

    /// The integer part, if the value is a whole number that fits.
    pub fn to_integer(self) -> Option<i64> {
        let n = self.normalized();
        if n.scale == 0 {
            i64::try_from(n.mantissa).ok()
        } else {
            None
        }
    }

    /// Truncated toward zero.
    pub fn truncate(self) -> Option<i64> {
        let mut m = self.mantissa;
        for _ in 0..self.scale {
            m /= 10;
        }
        i64::try_from(m).ok()
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        if neg {
            f.write_str("-")?;
        }
        f.write_str(int)?;
        if !frac.is_empty() {
            write!(f, ".{frac}")?;
        }
        Ok(())
    }
}

/// A date, date-time or time of partial precision: the components present are
/// exactly those written (`2017-01` has a year and a month).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartialTemporal {
    /// The year (absent for a time).
    pub year: Option<i32>,
    /// 1-12.
    pub month: Option<u32>,
    /// 1-31.
    pub day: Option<u32>,
    /// 0-23.
    pub hour: Option<u32>,
    /// 0-59.
    pub minute: Option<u32>,
    /// 0-60.
    pub second: Option<u32>,
    /// Fractional seconds in nanoseconds (present only with seconds).
    pub nanos: Option<u32>,
    /// The time-zone offset in minutes (`Z` is 0), if written.
    pub tz_minutes: Option<i32>,
    /// The text as written (without `@`).
    pub text: String,
}

/// The precision levels of a date/time, in order.
const LEVELS: usize = 6;

impl PartialTemporal {
    fn empty(text: &str) -> Self {
        PartialTemporal {
            year: None,
            month: None,
            day: None,
            hour: None,
            minute: None,
            second: None,
            nanos: None,
            tz_minutes: None,
            text: text.to_string(),
        }
    }

    /// Parses a date or date-time: `2017`, `2017-01`, `2017-01-02`,
    /// `2017-01-02T10`, `2017-01-02T10:00:00.123+01:00`, `2017T` (FHIRPath allows a
    /// trailing `T` on a partial date-time).
    pub fn parse_date_time(text: &str) -> Option<Self> {
        let mut p = PartialTemporal::empty(text);
        let (date, time) = match text.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let mut parts = date.split('-');
        let y = parts.next()?;
        if y.len() != 4 {
            return None;
        }
        p.year = Some(num(y)? as i32);
        if let Some(m) = parts.next() {
            p.month = Some(two(m, 1, 12)?);
            if let Some(d) = parts.next() {
                p.day = Some(two(d, 1, 31)?);
            }
        }
        if parts.next().is_some() {
            return None;
        }
        if let Some(t) = time {
            if !t.is_empty() {
                p.day?;
                let rest = p.parse_time_part(t)?;
                p.parse_tz(rest)?;
            }
        } else if let Some(i) = date.find(['Z', '+']) {
            // a timezone without time is not allowed
            let _ = i;
            return None;
        }
        Some(p)
    }

    /// Parses a time: `10`, `10:00`, `10:00:00.5` (a leading `T` is accepted).
    pub fn parse_time(text: &str) -> Option<Self> {
        let mut p = PartialTemporal::empty(text);
        let t = text.strip_prefix('T').unwrap_or(text);
        let rest = p.parse_time_part(t)?;
        if !rest.is_empty() {
            return None;
        }
        Some(p)
    }

    fn parse_time_part<'t>(&mut self, t: &'t str) -> Option<&'t str> {
        let end = t.find(['Z', '+', '-']).unwrap_or(t.len());
        let (hms, rest) = t.split_at(end);
        let mut parts = hms.split(':');
        self.hour = Some(two(parts.next()?, 0, 23)?);
        if let Some(m) = parts.next() {
            self.minute = Some(two(m, 0, 59)?);
            if let Some(s) = parts.next() {
                let (sec, frac) = match s.split_once('.') {
                    Some((a, b)) => (a, Some(b)),
                    None => (s, None),
                };
                self.second = Some(two(sec, 0, 60)?);
                if let Some(f) = frac {
                    if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let padded = format!("{f:0<9}");
                    self.nanos = Some(padded.parse().ok()?);
                }
            }
        }
        if parts.next().is_some() {
            return None;
        }
        Some(rest)
    }

    fn parse_tz(&mut self, rest: &str) -> Option<()> {
        if rest.is_empty() {
            return Some(());
        }
        if rest == "Z" {
            self.tz_minutes = Some(0);
            return Some(());
        }
        let sign = match rest.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = rest[1..].split_once(':')?;
        let h = two(h, 0, 14)? as i32;
        let m = two(m, 0, 59)? as i32;
        self.tz_minutes = Some(sign * (h * 60 + m));
        Some(())
    }

    fn levels(&self) -> [Option<i64>; LEVELS] {
        let sec = self
            .second
            .map(|s| i64::from(s) * 1_000_000_000 + i64::from(self.nanos.unwrap_or(0)));
        [
            self.year.map(i64::from),
            self.month.map(i64::from),
            self.day.map(i64::from),
            self.hour.map(i64::from),
            self.minute.map(i64::from),
            sec,
        ]
    }

    /// Compares two values of the same kind by the FHIRPath rules: component by
    /// component from the most significant; if one has a component the other lacks
    /// (and all before are equal), the result is unknown (`None`). Seconds and
    /// fractions are one precision. When both carry a time zone and minutes, the
    /// comparison is made in UTC; when only one does, zones are ignored.
    pub fn compare(&self, other: &PartialTemporal) -> Option<Ordering> {
        let (a, b) = match (self.tz_minutes, other.tz_minutes) {
            (Some(ta), Some(tb)) if ta != tb && self.minute.is_some() && other.minute.is_some() => {
                (self.shifted(-ta), other.shifted(-tb))
            }
            _ => (self.levels(), other.levels()),
        };
        // a time has no date levels: start at the first level either has
        let mut started = false;
        for i in 0..LEVELS {
            match (a[i], b[i]) {
                (Some(x), Some(y)) => {
                    started = true;
                    if x != y {
                        return Some(x.cmp(&y));
                    }
                }
                (None, None) if !started => {}
                (None, None) => return Some(Ordering::Equal),
                _ => return None,
            }
        }
        Some(Ordering::Equal)
    }

    /// The levels after moving the time by `offset` minutes (to UTC).
    fn shifted(&self, offset: i32) -> [Option<i64>; LEVELS] {
        let mut l = self.levels();
        let (Some(h), Some(mi)) = (self.hour, self.minute) else {
            return l;
        };
        let mut total = i64::from(h) * 60 + i64::from(mi) + i64::from(offset);
        let mut day_shift = 0i64;
        if let (Some(y), Some(m), Some(d)) = (self.year, self.month, self.day) {
            let days = days_from_civil(i64::from(y), m, d);
            day_shift = total.div_euclid(1440);
            total = total.rem_euclid(1440);
            let (ny, nm, nd) = civil_from_days(days + day_shift);
            l[0] = Some(ny);
            l[1] = Some(i64::from(nm));
            l[2] = Some(i64::from(nd));
        } else {
            total = total.rem_euclid(1440);
        }
        let _ = day_shift;
        l[3] = Some(total / 60);
        l[4] = Some(total % 60);
        l
    }
}

impl fmt::Display for PartialTemporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn two(s: &str, min: u32, max: u32) -> Option<u32> {
    if s.len() != 2 {
        return None;
    }
    let n = num(s)?;
    (min..=max).contains(&n).then_some(n)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A quantity: an exact value and a unit (a UCUM code, or a calendar duration
/// word such as `year` for `1 year`).
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// The value.
    pub value: Decimal,
    /// The unit: UCUM code or calendar keyword (singular).
    pub unit: String,
}

impl Quantity {
    /// The unit made comparable: calendar words of fixed length map to their UCUM
    /// codes (`day` → `d`); `year` and `month` stay as they are (not comparable with
    /// `a` and `mo`, which are not calendar durations).
    pub fn comparable_unit(&self) -> &str {
        match self.unit.as_str() {
            "week" => "wk",
            "day" => "d",
            "hour" => "h",
            "minute" => "min",
            "second" => "s",
            "millisecond" => "ms",
            u => u,
        }
    }

    /// Compares with another quantity of the same (comparable) unit; `None` when
    /// the units differ (unit conversion is not supported).
    pub fn compare(&self, other: &Quantity) -> Option<Ordering> {
        (self.comparable_unit() == other.comparable_unit()).then(|| self.value.cmp_num(other.value))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_calendar_unit(&self.unit) {
            write!(f, "{} {}", self.value, self.unit)
        } else {
            write!(f, "{} '{}'", self.value, self.unit)
        }
    }
}

/// The calendar duration keywords (singular) of quantity literals.
pub(crate) fn is_calendar_unit(u: &str) -> bool {
    matches!(
        u,
        "year" | "month" | "week" | "day" | "hour" | "minute" | "second" | "millisecond"
    )
}

/// A calendar keyword (singular or plural) in singular form.
pub(crate) fn calendar_singular(u: &str) -> Option<&'static str> {
    Some(match u {
        "year" | "years" => "year",
        "month" | "months" => "month",
        "week" | "weeks" => "week",
        "day" | "days" => "day",
        "hour" | "hours" => "hour",
        "minute" | "minutes" => "minute",
        "second" | "seconds" => "second",
        "millisecond" | "milliseconds" => "millisecond",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        let a = Decimal::parse("1.50").unwrap();
        assert_eq!(a.to_string(), "1.50");
        assert_eq!(a.cmp_num(Decimal::parse("1.5").unwrap()), Ordering::Equal);
        assert_eq!(
            Decimal::parse("0.1")
                .unwrap()
                .checked_add(Decimal::parse("0.2").unwrap())
                .unwrap()
                .to_string(),
            "0.3"
        );
        assert_eq!(Decimal::parse("-0.05").unwrap().to_string(), "-0.05");
        assert_eq!(Decimal::parse("1e3").unwrap().to_string(), "1000");
        assert_eq!(
            Decimal::from_i64(1)
                .checked_div(Decimal::from_i64(3))
                .unwrap()
                .to_string(),
            "0.33333333"
        );
        assert!(Decimal::parse("1.2.3").is_none());
        assert!(Decimal::parse("").is_none());
        assert!(Decimal::parse(".").is_none());
    }

    #[test]
    fn partial_dates_compare_by_precision() {
        let d = |s| PartialTemporal::parse_date_time(s).unwrap();
        assert_eq!(d("2017-01").compare(&d("2017-02-03")), Some(Ordering::Less));
        assert_eq!(d("2017-01").compare(&d("2017-01-03")), None);
        assert_eq!(d("2017").compare(&d("2017")), Some(Ordering::Equal));
        assert_eq!(
            d("2017-01-01T10:00:00+01:00").compare(&d("2017-01-01T09:00:00Z")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            d("2017-01-01T00:30+01:00").compare(&d("2016-12-31T23:30Z")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            d("2017-01-01T10:00:00.5").compare(&d("2017-01-01T10:00:00.50")),
            Some(Ordering::Equal)
        );
        assert!(PartialTemporal::parse_date_time("2017-13").is_none());
        assert!(PartialTemporal::parse_time("25:00").is_none());
    }

    #[test]
    fn civil_days_round_trip() {
        for days in [-1000, 0, 59, 365, 10957, 20000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
