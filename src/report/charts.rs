//! The report's charts, drawn by plotters as SVG text that goes inline into
//! the page. Only plotters' SVG backend is built: its text is written as
//! `<text>` elements for the browser to set in its own sans-serif, so no
//! font is read from the system, and plotters escapes every label.

use super::format;
use super::portfolio::{LogHistogram, Portfolio, BINS_PER_DECADE, DPD_BUCKETS};
use super::timeline::Timeline;
use crate::i18n::Lang;
use crate::results::Status;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of a chart, in CSS pixels (the page scales them down to
/// fit narrower screens).
pub const SIZE: (u32, u32) = (560, 320);
const WIDE: (u32, u32) = (1120, 320);

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const BLUE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const TEAL: RGBColor = RGBColor(0x2a, 0x8c, 0x82);
const PALE: RGBColor = RGBColor(0xa9, 0xc4, 0xe4);
const AMBER: RGBColor = RGBColor(0xe0, 0x9b, 0x1a);
const RED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);

/// The colour of a status, here and in the page's legend.
pub fn status_color(s: Status) -> RGBColor {
    match s {
        Status::Valid | Status::Created => RGBColor(0x2e, 0x8b, 0x57),
        Status::Updated => RGBColor(0x4c, 0xa8, 0x6f),
        Status::Unchanged => RGBColor(0x9c, 0xcf, 0xa8),
        Status::Invalid => AMBER,
        Status::Failed => RED,
        Status::Uncertain => RGBColor(0x7d, 0x4e, 0xa8),
        Status::NotSent => RGBColor(0x9e, 0x9e, 0x9e),
    }
}

/// `#rrggbb`, for the page's CSS.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

type Drawn = Result<(), String>;

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

/// Draws into an SVG of `size` and returns its text.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(root.clone())?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

fn label_font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

/// One horizontal bar of every status, each as long as its share of rows.
pub fn status_bar(counts: &[(Status, u64)]) -> Result<String, String> {
    let total: u64 = counts.iter().map(|c| c.1).sum();
    let (w, h) = (WIDE.0, 44);
    let bar = svg((w, h), |root| {
        if total == 0 {
            return Ok(());
        }
        let mut x = 0f64;
        for (status, n) in counts.iter().filter(|c| c.1 > 0) {
            let width = f64::from(w) * (*n as f64) / (total as f64);
            let (x0, x1) = (
                x.round() as i32,
                (x + width).round().max(x.round() + 1.0) as i32,
            );
            root.draw(&Rectangle::new(
                [(x0, 4), (x1, h as i32 - 4)],
                status_color(*status).filled(),
            ))
            .map_err(err)?;
            x += width;
        }
        Ok(())
    })?;
    // Stretched to the page's width, however wide that is.
    Ok(bar.replacen("<svg ", "<svg preserveAspectRatio=\"none\" ", 1))
}

/// Bars over labelled categories.
struct Bars<'a> {
    labels: Vec<String>,
    values: Vec<f64>,
    /// Each bar's value as written above it.
    shown: Vec<String>,
    color: RGBColor,
    y_desc: &'a str,
    /// The values are counts: no fractions on the axis.
    counts: bool,
}

/// Draws bars with each one's value written above it.
fn bars(b: Bars<'_>, lang: Lang) -> Result<String, String> {
    let Bars {
        labels,
        values,
        shown,
        color,
        y_desc,
        counts,
    } = b;
    let size = SIZE;
    let top = values.iter().cloned().fold(0f64, f64::max).max(1.0) * 1.15;
    let y_label = |y: &f64| axis_label(lang, *y, counts);
    svg(size, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .build_cartesian_2d((0..labels.len()).into_segmented(), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(labels.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(6)
            .y_label_formatter(&y_label)
            .y_desc(y_desc)
            .label_style(label_font(15))
            .axis_desc_style(label_font(15))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), *v),
                    ],
                    color.filled(),
                );
                bar.set_margin(0, 0, 8, 8);
                bar
            }))
            .map_err(err)?;
        let above = label_font(14).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(
                values
                    .iter()
                    .zip(shown)
                    .enumerate()
                    .filter(|(_, (v, _))| **v > 0.0)
                    .map(|(i, (v, s))| {
                        Text::new(
                            s.clone(),
                            (SegmentValue::CenterOf(i), *v + top * 0.01),
                            above.clone(),
                        )
                    }),
            )
            .map_err(err)?;
        Ok(())
    })
}

/// An axis label; a count's axis has no fractions (no "0.5 rows").
fn axis_label(lang: Lang, y: f64, counts: bool) -> String {
    if counts && y.fract().abs() > 1e-9 {
        String::new()
    } else {
        format::compact(lang, y)
    }
}

fn dpd_labels() -> Vec<String> {
    DPD_BUCKETS
        .iter()
        .map(|(first, last)| match last {
            Some(l) if l == first => first.to_string(),
            Some(l) => format!("{first}–{l}"),
            None => format!(">{}", first - 1),
        })
        .collect()
}

/// Obligations per days-past-due bucket.
pub fn dpd_obligations(p: &Portfolio, lang: Lang, y_desc: &str) -> Result<String, String> {
    let values: Vec<f64> = p.by_dpd.iter().map(|t| t.obligations as f64).collect();
    let shown: Vec<String> = p
        .by_dpd
        .iter()
        .map(|t| format::int(lang, t.obligations))
        .collect();
    bars(
        Bars {
            labels: dpd_labels(),
            values,
            shown,
            color: BLUE,
            y_desc,
            counts: true,
        },
        lang,
    )
}

/// Total balance per days-past-due bucket.
pub fn dpd_balance(p: &Portfolio, lang: Lang, y_desc: &str) -> Result<String, String> {
    let values: Vec<f64> = p.by_dpd.iter().map(|t| t.balance.value()).collect();
    let shown: Vec<String> = values.iter().map(|v| format::compact(lang, *v)).collect();
    bars(
        Bars {
            labels: dpd_labels(),
            values,
            shown,
            color: TEAL,
            y_desc,
            counts: false,
        },
        lang,
    )
}

/// Types shown by name in the chart; the rest are one bar.
const TYPE_BARS: usize = 10;

/// Total balance per portfolio type, largest first, as horizontal bars.
pub fn balance_by_type(
    p: &Portfolio,
    lang: Lang,
    others: &str,
    none: &str,
) -> Result<String, String> {
    let mut rows: Vec<(String, f64)> = Vec::new();
    let types = p.types_by_balance();
    let mut rest = p.other_types.balance.value();
    for (i, (name, t)) in types.iter().enumerate() {
        if i < TYPE_BARS {
            rows.push((short(name, 22), t.balance.value()));
        } else {
            rest += t.balance.value();
        }
    }
    if p.no_type.obligations > 0 {
        rows.push((none.to_string(), p.no_type.balance.value()));
    }
    if rest != 0.0 || p.other_types.obligations > 0 {
        rows.push((others.to_string(), rest));
    }
    let n = rows.len().max(1);
    let height = (60 + 34 * n as u32).max(160);
    let right = rows.iter().map(|r| r.1).fold(0f64, f64::max).max(1.0) * 1.22;
    svg((SIZE.0, height), |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(150)
            .build_cartesian_2d(0f64..right, (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                // Largest at the top: the y axis counts upwards.
                SegmentValue::CenterOf(i) => (n - 1)
                    .checked_sub(*i)
                    .and_then(|j| rows.get(j))
                    .map(|r| r.0.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_labels(5)
            .x_label_formatter(&|x| format::compact(lang, *x))
            .label_style(label_font(15))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
                let at = n - 1 - i;
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(at)),
                        (*v, SegmentValue::Exact(at + 1)),
                    ],
                    TEAL.filled(),
                );
                bar.set_margin(6, 6, 0, 0);
                bar
            }))
            .map_err(err)?;
        let after = label_font(14).pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
                Text::new(
                    format!(" {}", format::compact(lang, *v)),
                    (v.max(0.0), SegmentValue::CenterOf(n - 1 - i)),
                    after.clone(),
                )
            }))
            .map_err(err)?;
        Ok(())
    })
}

fn short(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Obligations by balance, in bins of a quarter of a power of ten, over the
/// decades that hold any.
pub fn balance_histogram(h: &LogHistogram, lang: Lang, y_desc: &str) -> Result<String, String> {
    let k = BINS_PER_DECADE as usize;
    let used: Vec<usize> = (0..h.bins.len()).filter(|i| h.bins[*i] > 0).collect();
    let (first, last) = match (used.first(), used.last()) {
        (Some(f), Some(l)) => (f / k, l / k + 1),
        _ => (0, 1),
    };
    let top = h.bins.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.1;
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .build_cartesian_2d(first as f64..last as f64, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(last - first + 1)
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 1e-6 {
                    format::compact(lang, 10f64.powi(x.round() as i32))
                } else {
                    String::new()
                }
            })
            .y_labels(6)
            .y_label_formatter(&|y| axis_label(lang, *y, true))
            .y_desc(y_desc)
            .label_style(label_font(15))
            .axis_desc_style(label_font(15))
            .draw()
            .map_err(err)?;
        chart
            .draw_series((first * k..last * k).filter(|i| h.bins[*i] > 0).map(|i| {
                let x0 = i as f64 / k as f64;
                let x1 = (i + 1) as f64 / k as f64;
                let mut bar = Rectangle::new([(x0, 0.0), (x1, h.bins[i] as f64)], BLUE.filled());
                bar.set_margin(0, 0, 1, 1);
                bar
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// Rows finished per minute, interval by interval: rows that needed
/// requests, rows settled without one above them, and a mark above each
/// interval with retries (amber) or throttling answers (red).
pub fn timeline(t: &Timeline, lang: Lang, y_desc: &str) -> Result<String, String> {
    let width = t.width().as_secs_f64();
    let per_min = |n: u64| n as f64 * 60.0 / width;
    let slots = t.slots();
    let n = slots.len().max(1);
    let top = slots
        .iter()
        .map(|s| per_min(s.sent + s.settled))
        .fold(0f64, f64::max)
        .max(1.0)
        * 1.25;
    let every = n.div_ceil(8).max(1);
    svg(WIDE, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(72)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if i % every == 0 => {
                    format::duration(lang, t.width() * *i as u32)
                }
                _ => String::new(),
            })
            .y_labels(6)
            .y_label_formatter(&|y| format::compact(lang, *y))
            .y_desc(y_desc)
            .label_style(label_font(15))
            .axis_desc_style(label_font(15))
            .draw()
            .map_err(err)?;
        draw_timeline_series(&mut chart, slots, per_min, top)
    })
}

/// The coordinates of the timeline: one segment per interval.
type TimelineChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordusize>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// The timeline's bars (sent, then settled above them) and its marks
/// (retries, throttling) above each interval.
fn draw_timeline_series(
    chart: &mut TimelineChart<'_, '_>,
    slots: &[super::timeline::Slot],
    per_min: impl Fn(u64) -> f64,
    top: f64,
) -> Drawn {
    let n = slots.len().max(1);
    let bar = |i: usize, y0: f64, y1: f64, c: RGBColor| {
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i), y0),
                (SegmentValue::Exact(i + 1), y1),
            ],
            c.filled(),
        );
        let gap = if n > 60 { 0 } else { 2 };
        r.set_margin(0, 0, gap, gap);
        r
    };
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .map(|(i, s)| bar(i, 0.0, per_min(s.sent), BLUE)),
        )
        .map_err(err)?;
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.settled > 0)
                .map(|(i, s)| bar(i, per_min(s.sent), per_min(s.sent + s.settled), PALE)),
        )
        .map_err(err)?;
    let mark_y = |s: &super::timeline::Slot, lift: f64| per_min(s.sent + s.settled) + top * lift;
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.retries > 0)
                .map(|(i, s)| {
                    Circle::new(
                        (SegmentValue::CenterOf(i), mark_y(s, 0.05)),
                        5,
                        AMBER.filled(),
                    )
                }),
        )
        .map_err(err)?;
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.throttled > 0)
                .map(|(i, s)| {
                    TriangleMarker::new(
                        (SegmentValue::CenterOf(i), mark_y(s, 0.12)),
                        6,
                        RED.filled(),
                    )
                }),
        )
        .map_err(err)?;
    Ok(())
}

/// The timeline's colours, for the page's legend: rows sent, rows settled
/// without a request, retries, throttling.
pub fn timeline_colors() -> [String; 4] {
    [css(BLUE), css(PALE), css(AMBER), css(RED)]
}
