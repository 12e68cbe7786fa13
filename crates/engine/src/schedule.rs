//! Time windows: start and expiration dates, recurring timeframes (ISO-8601 interval and
//! duration), days of the week and daily hours, evaluated in the project's time zone.

use crate::error::{DefinitionError, DefinitionErrorKind};
use chrono::{DateTime, Datelike, Duration, Months, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// `validity_timeframe` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeframeDef {
    pub interval: Option<String>,
    pub duration: Option<String>,
}

/// One `validity_hours.daily` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DailyHoursDef {
    pub start_time: Option<String>,
    pub expiration_time: Option<String>,
    #[serde(default, deserialize_with = "crate::model::null_as_default")]
    pub days_of_week: Vec<u8>,
}

/// `validity_hours` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidityHoursDef {
    #[serde(default, deserialize_with = "crate::model::null_as_default")]
    pub daily: Vec<DailyHoursDef>,
}

/// The schedule fields shared by campaigns, vouchers and tiers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleDef {
    #[serde(default, deserialize_with = "crate::model::rfc3339_option")]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::model::rfc3339_option")]
    pub expiration_date: Option<DateTime<Utc>>,
    pub validity_timeframe: Option<TimeframeDef>,
    pub validity_day_of_week: Option<Vec<u8>>,
    pub validity_hours: Option<ValidityHoursDef>,
}

/// An ISO-8601 duration split into calendar months and exact seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoDuration {
    pub months: u32,
    pub seconds: i64,
}

impl IsoDuration {
    /// Parses `P1Y2M10DT2H30M`, `P2W`, `PT15M`, `P1D`.
    pub fn parse(s: &str) -> Option<IsoDuration> {
        let rest = s.trim().strip_prefix('P')?;
        let (date_part, time_part) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut months: u64 = 0;
        let mut seconds: i64 = 0;
        let mut any = false;
        let mut num = String::new();
        for c in date_part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: u64 = num.parse().ok()?;
            num.clear();
            any = true;
            match c {
                'Y' => months = months.checked_add(n.checked_mul(12)?)?,
                'M' => months = months.checked_add(n)?,
                'W' => seconds = seconds.checked_add(i64::try_from(n).ok()?.checked_mul(7 * 86_400)?)?,
                'D' => seconds = seconds.checked_add(i64::try_from(n).ok()?.checked_mul(86_400)?)?,
                _ => return None,
            }
        }
        if !num.is_empty() {
            return None;
        }
        if let Some(t) = time_part {
            if t.is_empty() {
                return None;
            }
            for c in t.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    continue;
                }
                let n: i64 = num.parse().ok()?;
                num.clear();
                any = true;
                let unit = match c {
                    'H' => 3600,
                    'M' => 60,
                    'S' => 1,
                    _ => return None,
                };
                seconds = seconds.checked_add(n.checked_mul(unit)?)?;
            }
            if !num.is_empty() {
                return None;
            }
        }
        // Bound to ~1000 years so later date arithmetic cannot overflow.
        if !any || months > 12_000 || seconds > 1000 * 366 * 86_400 {
            return None;
        }
        Some(IsoDuration { months: months as u32, seconds })
    }

    fn is_zero(self) -> bool {
        self.months == 0 && self.seconds == 0
    }

    fn add_to(self, t: DateTime<Utc>, times: u32) -> Option<DateTime<Utc>> {
        let months = self.months.checked_mul(times)?;
        let t = if months > 0 { t.checked_add_months(Months::new(months))? } else { t };
        t.checked_add_signed(Duration::try_seconds(self.seconds.checked_mul(i64::from(times))?)?)
    }

    /// A lower bound of the length, for comparing durations.
    fn approx_seconds(self) -> i64 {
        i64::from(self.months) * 28 * 86_400 + self.seconds
    }
}

#[derive(Debug, Clone, PartialEq)]
struct DailyWindow {
    start: NaiveTime,
    end: NaiveTime,
    /// Bit n set = day n (0 = Sunday) allowed; 0 = every day.
    days: u8,
}

/// A compiled schedule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    pub start: Option<DateTime<Utc>>,
    pub expiration: Option<DateTime<Utc>>,
    timeframe: Option<(IsoDuration, IsoDuration)>,
    days: u8,
    hours: Vec<DailyWindow>,
}

/// Why a schedule does not allow `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleMiss {
    /// Before `start_date`.
    NotStarted,
    /// After `expiration_date`.
    Expired,
    /// Outside the recurring timeframe, days or hours.
    NotNow,
}

fn days_mask(days: &[u8], path: &str) -> Result<u8, DefinitionError> {
    let mut mask = 0u8;
    for (i, d) in days.iter().enumerate() {
        if *d > 6 {
            return Err(DefinitionError::new(
                format!("{path}[{i}]"),
                DefinitionErrorKind::Invalid(format!("day {d} is not within 0..=6 (0 = Sunday)")),
            ));
        }
        mask |= 1 << d;
    }
    Ok(mask)
}

fn parse_time(s: Option<&str>, path: &str) -> Result<NaiveTime, DefinitionError> {
    let s = s.ok_or_else(|| DefinitionError::new(path, DefinitionErrorKind::Missing))?;
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| DefinitionError::new(path, DefinitionErrorKind::Invalid(format!("`{s}` is not HH:mm"))))
}

impl Schedule {
    /// Compiles and checks a schedule; `prefix` is prepended to error paths.
    pub fn compile(def: &ScheduleDef, prefix: &str) -> Result<Schedule, DefinitionError> {
        let p = |field: &str| {
            if prefix.is_empty() { field.to_owned() } else { format!("{prefix}.{field}") }
        };
        if let (Some(s), Some(e)) = (def.start_date, def.expiration_date)
            && e <= s
        {
            return Err(DefinitionError::new(
                p("expiration_date"),
                DefinitionErrorKind::EmptyWindow("expiration_date is not after start_date".into()),
            ));
        }
        let timeframe = match &def.validity_timeframe {
            None => None,
            Some(tf) if tf.interval.is_none() && tf.duration.is_none() => None,
            Some(tf) => {
                let parse = |field: &str, v: &Option<String>| {
                    let path = p(&format!("validity_timeframe.{field}"));
                    let raw = v.as_deref().ok_or_else(|| DefinitionError::new(&path, DefinitionErrorKind::Missing))?;
                    IsoDuration::parse(raw).ok_or_else(|| {
                        DefinitionError::new(
                            &path,
                            DefinitionErrorKind::Invalid(format!("`{raw}` is not an ISO-8601 duration")),
                        )
                    })
                };
                let interval = parse("interval", &tf.interval)?;
                let duration = parse("duration", &tf.duration)?;
                if def.start_date.is_none() {
                    return Err(DefinitionError::new(
                        p("start_date"),
                        DefinitionErrorKind::Invalid("validity_timeframe requires start_date".into()),
                    ));
                }
                if interval.is_zero() || duration.is_zero() {
                    return Err(DefinitionError::new(
                        p("validity_timeframe"),
                        DefinitionErrorKind::EmptyWindow("interval and duration must be positive".into()),
                    ));
                }
                if duration.approx_seconds() > interval.approx_seconds() {
                    return Err(DefinitionError::new(
                        p("validity_timeframe.duration"),
                        DefinitionErrorKind::Invalid("duration is longer than interval".into()),
                    ));
                }
                Some((interval, duration))
            }
        };
        let days = match &def.validity_day_of_week {
            None => 0,
            Some(d) if d.is_empty() => {
                return Err(DefinitionError::new(
                    p("validity_day_of_week"),
                    DefinitionErrorKind::EmptyWindow("no day is allowed".into()),
                ));
            }
            Some(d) => days_mask(d, &p("validity_day_of_week"))?,
        };
        let mut hours = Vec::new();
        if let Some(h) = &def.validity_hours {
            for (i, w) in h.daily.iter().enumerate() {
                let path = p(&format!("validity_hours.daily[{i}]"));
                let start = parse_time(w.start_time.as_deref(), &format!("{path}.start_time"))?;
                let end = parse_time(w.expiration_time.as_deref(), &format!("{path}.expiration_time"))?;
                if start == end {
                    return Err(DefinitionError::new(
                        path,
                        DefinitionErrorKind::EmptyWindow("start_time equals expiration_time".into()),
                    ));
                }
                hours.push(DailyWindow {
                    start,
                    end,
                    days: days_mask(&w.days_of_week, &format!("{path}.days_of_week"))?,
                });
            }
        }
        Ok(Schedule { start: def.start_date, expiration: def.expiration_date, timeframe, days, hours })
    }

    /// Is `now` inside the schedule?
    pub fn check(&self, now: DateTime<Utc>, tz: Tz) -> Result<(), ScheduleMiss> {
        if self.start.is_some_and(|s| now < s) {
            return Err(ScheduleMiss::NotStarted);
        }
        if self.expiration.is_some_and(|e| now >= e) {
            return Err(ScheduleMiss::Expired);
        }
        if let (Some((interval, duration)), Some(start)) = (self.timeframe, self.start)
            && !in_timeframe(start, interval, duration, now)
        {
            return Err(ScheduleMiss::NotNow);
        }
        if self.days != 0 || !self.hours.is_empty() {
            let local = now.with_timezone(&tz);
            let day = local.weekday().num_days_from_sunday() as u8;
            if self.days != 0 && self.days & (1 << day) == 0 {
                return Err(ScheduleMiss::NotNow);
            }
            if !self.hours.is_empty() {
                let t = local.time();
                let yesterday = weekday_before(local.weekday()).num_days_from_sunday() as u8;
                let allowed = |mask: u8, d: u8| mask == 0 || mask & (1 << d) != 0;
                let inside = self.hours.iter().any(|w| {
                    if w.start < w.end {
                        allowed(w.days, day) && t >= w.start && t < w.end
                    } else {
                        // Crosses midnight: the evening part on the listed day, the morning
                        // part on the day after.
                        (allowed(w.days, day) && t >= w.start) || (allowed(w.days, yesterday) && t < w.end)
                    }
                });
                if !inside {
                    return Err(ScheduleMiss::NotNow);
                }
            }
        }
        Ok(())
    }
}

fn weekday_before(d: Weekday) -> Weekday {
    d.pred()
}

/// Is `now` inside one of the periods `[start + k·interval, start + k·interval + duration)`?
fn in_timeframe(start: DateTime<Utc>, interval: IsoDuration, duration: IsoDuration, now: DateTime<Utc>) -> bool {
    if now < start {
        return false;
    }
    let period_start = if interval.months == 0 {
        let step = interval.seconds;
        let elapsed = (now - start).num_seconds();
        let Some(k) = elapsed.checked_div(step) else { return false };
        match k.checked_mul(step).and_then(Duration::try_seconds).and_then(|d| start.checked_add_signed(d)) {
            Some(p) => p,
            None => return false,
        }
    } else {
        // Estimate k from months, then settle it by stepping (at most a couple of steps).
        let months_between = (now.year() - start.year()) * 12 + now.month() as i32 - start.month() as i32;
        let Some(mut k) = (months_between.max(0) as u32).checked_div(interval.months) else { return false };
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 8 {
                return false;
            }
            match interval.add_to(start, k) {
                Some(p) if p > now && k > 0 => k -= 1,
                Some(p) => match interval.add_to(start, k + 1) {
                    Some(next) if next <= now => k += 1,
                    _ => break p,
                },
                None => return false,
            }
        }
    };
    duration.add_to(period_start, 1).is_some_and(|end| now < end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn parses_iso_durations() {
        assert_eq!(IsoDuration::parse("P2D"), Some(IsoDuration { months: 0, seconds: 2 * 86_400 }));
        assert_eq!(IsoDuration::parse("PT1H30M"), Some(IsoDuration { months: 0, seconds: 5400 }));
        assert_eq!(IsoDuration::parse("P1Y2M"), Some(IsoDuration { months: 14, seconds: 0 }));
        assert_eq!(IsoDuration::parse("P1W"), Some(IsoDuration { months: 0, seconds: 7 * 86_400 }));
        assert_eq!(IsoDuration::parse("P"), None);
        assert_eq!(IsoDuration::parse("PT"), None);
        assert_eq!(IsoDuration::parse("2D"), None);
    }

    #[test]
    fn start_and_expiration_bound_the_window() {
        let s = Schedule::compile(
            &ScheduleDef {
                start_date: Some(at(2026, 1, 1, 0, 0)),
                expiration_date: Some(at(2026, 2, 1, 0, 0)),
                ..Default::default()
            },
            "",
        )
        .unwrap();
        assert_eq!(s.check(at(2025, 12, 31, 23, 0), chrono_tz::UTC), Err(ScheduleMiss::NotStarted));
        assert_eq!(s.check(at(2026, 1, 15, 0, 0), chrono_tz::UTC), Ok(()));
        assert_eq!(s.check(at(2026, 2, 1, 0, 0), chrono_tz::UTC), Err(ScheduleMiss::Expired));
    }

    #[test]
    fn empty_windows_are_rejected_with_their_path() {
        let e = Schedule::compile(
            &ScheduleDef {
                start_date: Some(at(2026, 2, 1, 0, 0)),
                expiration_date: Some(at(2026, 1, 1, 0, 0)),
                ..Default::default()
            },
            "voucher",
        )
        .unwrap_err();
        assert_eq!(e.path, "voucher.expiration_date");
        assert!(matches!(e.kind, DefinitionErrorKind::EmptyWindow(_)));
        let e = Schedule::compile(&ScheduleDef { validity_day_of_week: Some(vec![]), ..Default::default() }, "")
            .unwrap_err();
        assert_eq!(e.path, "validity_day_of_week");
        let e = Schedule::compile(
            &ScheduleDef {
                validity_hours: Some(ValidityHoursDef {
                    daily: vec![DailyHoursDef {
                        start_time: Some("10:00".into()),
                        expiration_time: Some("10:00".into()),
                        days_of_week: vec![],
                    }],
                }),
                ..Default::default()
            },
            "",
        )
        .unwrap_err();
        assert_eq!(e.path, "validity_hours.daily[0]");
    }

    #[test]
    fn recurring_timeframe_repeats_every_interval() {
        // Active one day out of every two, from 1 Jan.
        let def = ScheduleDef {
            start_date: Some(at(2026, 1, 1, 0, 0)),
            validity_timeframe: Some(TimeframeDef { interval: Some("P2D".into()), duration: Some("P1D".into()) }),
            ..Default::default()
        };
        let s = Schedule::compile(&def, "").unwrap();
        assert_eq!(s.check(at(2026, 1, 1, 12, 0), chrono_tz::UTC), Ok(()));
        assert_eq!(s.check(at(2026, 1, 2, 12, 0), chrono_tz::UTC), Err(ScheduleMiss::NotNow));
        assert_eq!(s.check(at(2026, 1, 3, 12, 0), chrono_tz::UTC), Ok(()));
    }

    #[test]
    fn monthly_timeframe_uses_calendar_months() {
        let def = ScheduleDef {
            start_date: Some(at(2026, 1, 31, 0, 0)),
            validity_timeframe: Some(TimeframeDef { interval: Some("P1M".into()), duration: Some("P1D".into()) }),
            ..Default::default()
        };
        let s = Schedule::compile(&def, "").unwrap();
        assert_eq!(s.check(at(2026, 2, 28, 10, 0), chrono_tz::UTC), Ok(()));
        assert_eq!(s.check(at(2026, 3, 5, 10, 0), chrono_tz::UTC), Err(ScheduleMiss::NotNow));
    }

    #[test]
    fn day_of_week_and_hours_use_the_project_time_zone() {
        // 2026-11-21 is a Saturday. 23:30 UTC is Sunday 00:30 in Warsaw.
        let def = ScheduleDef { validity_day_of_week: Some(vec![0]), ..Default::default() };
        let s = Schedule::compile(&def, "").unwrap();
        assert_eq!(s.check(at(2026, 11, 21, 23, 30), chrono_tz::UTC), Err(ScheduleMiss::NotNow));
        assert_eq!(s.check(at(2026, 11, 21, 23, 30), chrono_tz::Europe::Warsaw), Ok(()));

        let hours = ScheduleDef {
            validity_hours: Some(ValidityHoursDef {
                daily: vec![DailyHoursDef {
                    start_time: Some("22:00".into()),
                    expiration_time: Some("02:00".into()),
                    days_of_week: vec![6],
                }],
            }),
            ..Default::default()
        };
        let s = Schedule::compile(&hours, "").unwrap();
        assert_eq!(s.check(at(2026, 11, 21, 23, 0), chrono_tz::UTC), Ok(()), "Saturday evening");
        assert_eq!(s.check(at(2026, 11, 22, 1, 0), chrono_tz::UTC), Ok(()), "the night after Saturday");
        assert_eq!(s.check(at(2026, 11, 22, 23, 0), chrono_tz::UTC), Err(ScheduleMiss::NotNow), "Sunday evening");
    }
}
