//! The portfolio as the valid rows describe it, aggregated while streaming
//! in a fixed amount of memory: counts and sums per days-past-due bucket and
//! per portfolio type, a log-scale histogram of balances and the largest
//! balances.

use crate::mapping::ReportFields;

/// Days-past-due buckets: `(first day, last day)`, the last open-ended.
/// Days of zero or fewer (not yet due) count as 0.
pub const DPD_BUCKETS: [(i64, Option<i64>); 7] = [
    (0, Some(0)),
    (1, Some(30)),
    (31, Some(60)),
    (61, Some(90)),
    (91, Some(180)),
    (181, Some(360)),
    (361, None),
];

/// The bucket of a number of days past due.
pub fn dpd_bucket(days: i64) -> usize {
    DPD_BUCKETS
        .iter()
        .position(|(_, last)| last.is_none_or(|l| days <= l))
        .expect("the last bucket is open-ended")
}

/// Bins per power of ten in the balance histogram.
pub const BINS_PER_DECADE: u32 = 4;
/// Decades the histogram spans, from 1 up to 10^12.
pub const DECADES: u32 = 12;
/// Bins of balances from 1 to 10^12; below and above are counted apart.
pub const LOG_BINS: usize = (BINS_PER_DECADE * DECADES) as usize;

/// How many portfolio types are told apart; the rest are summed as "others",
/// so a column of free text cannot make the report grow with the file.
pub const MAX_TYPES: usize = 40;

/// How many of the largest balances are kept.
pub const TOP_K: usize = 5;

/// The longest obligation id or type kept (characters); longer ones are cut.
const MAX_LABEL_CHARS: usize = 80;

/// A sum of amounts that keeps its precision over a million rows
/// (Neumaier's compensated summation).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// Obligations and their balance.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub obligations: u64,
    /// Balance of the obligations that have one.
    pub balance: Sum,
}

impl Tally {
    fn add(&mut self, balance: Option<f64>) {
        self.obligations += 1;
        if let Some(b) = balance {
            self.balance.add(b);
        }
    }
}

/// A histogram of positive balances in bins of equal width on a log scale.
#[derive(Debug, Clone, PartialEq)]
pub struct LogHistogram {
    /// `bins[i]` counts balances in `[10^(i/k), 10^((i+1)/k))`, k bins a decade.
    pub bins: [u64; LOG_BINS],
    /// Balances of zero or less, and positive ones under 1.
    pub below: u64,
    /// Balances of 10^12 or more.
    pub above: u64,
    /// The bins' lower edges and the last one's upper edge, computed once:
    /// a row is binned by comparisons, without a logarithm.
    edges: [f64; LOG_BINS + 1],
}

impl Default for LogHistogram {
    fn default() -> Self {
        LogHistogram {
            bins: [0; LOG_BINS],
            below: 0,
            above: 0,
            edges: std::array::from_fn(Self::lower_edge),
        }
    }
}

impl LogHistogram {
    pub fn add(&mut self, balance: f64) {
        match self.bin(balance) {
            Ok(i) => self.bins[i] += 1,
            Err(false) => self.below += 1,
            Err(true) => self.above += 1,
        }
    }

    /// The bin of a balance, or whether it is above (`Err(true)`) or below
    /// (`Err(false)`) the histogram's range.
    pub fn bin(&self, balance: f64) -> Result<usize, bool> {
        if balance.is_nan() || balance < self.edges[0] {
            return Err(false);
        }
        if balance >= self.edges[LOG_BINS] {
            return Err(true);
        }
        // The first edge above the balance closes its bin.
        Ok(self.edges.partition_point(|e| *e <= balance) - 1)
    }

    /// The smallest balance of bin `i`.
    pub fn lower_edge(i: usize) -> f64 {
        let k = BINS_PER_DECADE as usize;
        // Whole decades exactly, whatever powf would round to.
        10f64.powi((i / k) as i32) * 10f64.powf((i % k) as f64 / k as f64)
    }
}

/// One of the largest balances.
#[derive(Debug, Clone, PartialEq)]
pub struct Largest {
    pub balance: f64,
    pub row: u64,
    pub id: String,
    pub portfolio_type: Option<String>,
}

/// The `k` largest balances seen; on a tie, the earlier row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopK {
    k: usize,
    /// Largest first.
    items: Vec<Largest>,
}

impl TopK {
    pub fn new(k: usize) -> TopK {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    /// Whether a balance would enter: one comparison for most rows.
    pub fn admits(&self, balance: f64) -> bool {
        self.items.len() < self.k || self.items.last().is_some_and(|m| balance > m.balance)
    }

    pub fn offer(&mut self, balance: f64, row: u64, id: &str, portfolio_type: Option<&str>) {
        if !self.admits(balance) {
            return;
        }
        // After every equal or larger balance: rows come in order, so an
        // earlier row keeps its place on a tie.
        let at = self.items.partition_point(|m| m.balance >= balance);
        self.items.insert(
            at,
            Largest {
                balance,
                row,
                id: cut(id),
                portfolio_type: portfolio_type.map(cut),
            },
        );
        self.items.truncate(self.k);
    }

    pub fn items(&self) -> &[Largest] {
        &self.items
    }
}

fn prefix(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_LABEL_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Which of the charts' fields the mapping fills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MappedFields {
    pub total_balance: bool,
    pub days_delay: bool,
    pub portfolio_type: bool,
}

impl MappedFields {
    pub fn of(mapping: &crate::mapping::Mapping) -> MappedFields {
        let has = |f: &str| mapping.rules.iter().any(|r| r.field == f);
        MappedFields {
            total_balance: has("total_balance"),
            days_delay: has("days_delay"),
            portfolio_type: has("portfolio_type"),
        }
    }
}

/// The valid rows' portfolio, in numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    pub fields: MappedFields,
    /// Valid rows seen.
    pub obligations: u64,
    /// All valid rows' balances.
    pub balance: Sum,
    /// Per [`DPD_BUCKETS`] bucket.
    pub by_dpd: [Tally; 7],
    /// Rows whose days past due were empty or unreadable.
    pub no_dpd: Tally,
    /// Rows whose balance was empty or unreadable.
    pub no_balance: u64,
    /// Per portfolio type, at most [`MAX_TYPES`], in the order first seen.
    /// A portfolio has a handful of types: a scan that starts at the last
    /// one found beats hashing the name for every row.
    pub by_type: Vec<(String, Tally)>,
    last_type: usize,
    /// Rows of types past the first [`MAX_TYPES`].
    pub other_types: Tally,
    /// Rows with an empty type.
    pub no_type: Tally,
    pub histogram: LogHistogram,
    pub largest: TopK,
}

impl Portfolio {
    pub fn new(fields: MappedFields) -> Portfolio {
        Portfolio {
            fields,
            obligations: 0,
            balance: Sum::default(),
            by_dpd: Default::default(),
            no_dpd: Tally::default(),
            no_balance: 0,
            by_type: Vec::new(),
            last_type: 0,
            other_types: Tally::default(),
            no_type: Tally::default(),
            histogram: LogHistogram::default(),
            largest: TopK::new(TOP_K),
        }
    }

    /// Counts one valid row (row number as a person sees it). A row mapped
    /// without report fields counts as an obligation with none of them.
    pub fn add(&mut self, row: u64, id: &str, fields: Option<&ReportFields>) {
        const NONE: ReportFields = ReportFields {
            total_balance: None,
            days_delay: None,
            portfolio_type: None,
        };
        self.add_fields(row, id, fields.unwrap_or(&NONE));
    }

    pub fn add_fields(&mut self, row: u64, id: &str, f: &ReportFields) {
        self.obligations += 1;
        let balance = f.total_balance;
        match balance {
            Some(b) => {
                self.balance.add(b);
                self.histogram.add(b);
                if self.largest.admits(b) {
                    self.largest.offer(b, row, id, f.portfolio_type.as_deref());
                }
            }
            None => self.no_balance += 1,
        }
        match f.days_delay {
            Some(d) => self.by_dpd[dpd_bucket(d)].add(balance),
            None => self.no_dpd.add(balance),
        }
        let Some(t) = f.portfolio_type.as_deref() else {
            self.no_type.add(balance);
            return;
        };
        // Types are told apart by their first characters: a long cell
        // costs no more than a short one.
        let t = prefix(t, MAX_LABEL_CHARS);
        let found = match self.by_type.get(self.last_type) {
            Some((name, _)) if name == t => Some(self.last_type),
            _ => self.by_type.iter().position(|(name, _)| name == t),
        };
        match found {
            Some(i) => {
                self.last_type = i;
                self.by_type[i].1.add(balance);
            }
            None if self.by_type.len() < MAX_TYPES => {
                let mut tally = Tally::default();
                tally.add(balance);
                self.last_type = self.by_type.len();
                self.by_type.push((t.to_string(), tally));
            }
            None => self.other_types.add(balance),
        }
    }

    /// The types by balance, largest first (then by name).
    pub fn types_by_balance(&self) -> Vec<(&str, Tally)> {
        let mut v: Vec<(&str, Tally)> =
            self.by_type.iter().map(|(k, t)| (k.as_str(), *t)).collect();
        v.sort_by(|a, b| {
            b.1.balance
                .value()
                .total_cmp(&a.1.balance.value())
                .then_with(|| a.0.cmp(b.0))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_edges() {
        let cases = [
            (-5, 0),
            (0, 0),
            (1, 1),
            (30, 1),
            (31, 2),
            (60, 2),
            (61, 3),
            (90, 3),
            (91, 4),
            (180, 4),
            (181, 5),
            (360, 5),
            (361, 6),
            (100_000, 6),
        ];
        for (days, bucket) in cases {
            assert_eq!(dpd_bucket(days), bucket, "{days} days");
        }
    }

    #[test]
    fn log_histogram_bins_by_quarter_decade() {
        let h = LogHistogram::default();
        assert_eq!(h.bin(0.0), Err(false));
        assert_eq!(h.bin(-10.0), Err(false));
        assert_eq!(h.bin(0.99), Err(false));
        assert_eq!(h.bin(f64::NAN), Err(false));
        assert_eq!(h.bin(1.0), Ok(0));
        // 10^0.25 = 1.778...: the second bin starts there.
        assert_eq!(h.bin(1.77), Ok(0));
        assert_eq!(h.bin(1.78), Ok(1));
        // Exact powers of ten open their decade's first bin, whatever
        // log10's rounding; a hair under stays in the bin before.
        for d in 1..DECADES {
            let p = 10f64.powi(d as i32);
            assert_eq!(h.bin(p), Ok((d * BINS_PER_DECADE) as usize), "10^{d}");
            assert_eq!(
                h.bin(p * (1.0 - 1e-12)),
                Ok((d * BINS_PER_DECADE - 1) as usize),
                "just under 10^{d}"
            );
        }
        assert_eq!(h.bin(999_999_999_999.0), Ok(LOG_BINS - 1));
        assert_eq!(h.bin(1e12), Err(true));
        assert_eq!(h.bin(f64::INFINITY), Err(true));

        let mut h = LogHistogram::default();
        for b in [0.0, 5.0, 50.0, 55.0, 14_105_600.19, 2e12] {
            h.add(b);
        }
        assert_eq!((h.below, h.above), (1, 1));
        assert_eq!(h.bins.iter().sum::<u64>(), 4);
        assert_eq!(h.bins[h.bin(50.0).unwrap()], 2);
    }

    #[test]
    fn top_k_keeps_the_largest_and_the_earlier_row_on_a_tie() {
        let mut t = TopK::new(3);
        for (row, b) in [
            (2, 10.0),
            (3, 50.0),
            (4, 30.0),
            (5, 50.0),
            (6, 5.0),
            (7, 40.0),
        ] {
            t.offer(b, row, &format!("OB-{row}"), None);
        }
        let got: Vec<(u64, f64)> = t.items().iter().map(|m| (m.row, m.balance)).collect();
        assert_eq!(got, [(3, 50.0), (5, 50.0), (7, 40.0)]);
        assert!(!t.admits(40.0));
        assert!(t.admits(40.5));
        // A later tie with the smallest kept one does not displace it.
        t.offer(40.0, 8, "OB-8", None);
        assert_eq!(t.items()[2].row, 7);
    }

    #[test]
    fn sums_keep_cents_over_a_million_rows() {
        let mut s = Sum::default();
        for _ in 0..1_000_000 {
            s.add(14_105_600.19);
        }
        assert!(
            (s.value() - 14_105_600_190_000.0).abs() < 0.01,
            "{}",
            s.value()
        );
    }

    fn fields(balance: Option<f64>, days: Option<i64>, t: Option<&str>) -> ReportFields {
        ReportFields {
            total_balance: balance,
            days_delay: days,
            portfolio_type: t.map(str::to_string),
        }
    }

    #[test]
    fn the_portfolio_adds_up_and_stays_bounded() {
        let mut p = Portfolio::new(MappedFields {
            total_balance: true,
            days_delay: true,
            portfolio_type: true,
        });
        p.add_fields(2, "A", &fields(Some(100.0), Some(0), Some("Consumo")));
        p.add_fields(3, "B", &fields(Some(200.0), Some(45), Some("Vivienda")));
        p.add_fields(4, "C", &fields(None, Some(400), Some("Consumo")));
        p.add_fields(5, "D", &fields(Some(50.0), None, None));
        assert_eq!(p.obligations, 4);
        assert_eq!(p.balance.value(), 350.0);
        assert_eq!(p.no_balance, 1);
        assert_eq!(p.by_dpd[0].obligations, 1);
        assert_eq!(p.by_dpd[2].balance.value(), 200.0);
        assert_eq!(p.by_dpd[6].obligations, 1);
        assert_eq!(p.by_dpd[6].balance.value(), 0.0);
        assert_eq!(p.no_dpd.obligations, 1);
        assert_eq!(p.no_type.obligations, 1);
        let types = p.types_by_balance();
        assert_eq!(types[0].0, "Vivienda");
        assert_eq!(types[1].0, "Consumo");
        assert_eq!(types[1].1.obligations, 2);

        for i in 0..1000 {
            p.add_fields(
                10 + i,
                "X",
                &fields(Some(1.0), Some(1), Some(&format!("type {i}"))),
            );
        }
        assert_eq!(p.by_type.len(), MAX_TYPES);
        assert_eq!(p.other_types.obligations, 1000 - (MAX_TYPES as u64 - 2));
        let long = "x".repeat(10_000);
        p.add_fields(5000, &long, &fields(Some(1e9), Some(1), Some("Consumo")));
        assert!(p.largest.items()[0].id.chars().count() <= MAX_LABEL_CHARS + 1);
        // A long type is kept by its first characters, and found again.
        let mut q = Portfolio::new(p.fields);
        q.add_fields(2, "A", &fields(Some(1.0), Some(1), Some(&long)));
        q.add_fields(3, "B", &fields(Some(2.0), Some(1), Some(&long)));
        assert_eq!(q.by_type.len(), 1);
        let (name, tally) = &q.by_type[0];
        assert_eq!(
            (name.chars().count(), tally.obligations),
            (MAX_LABEL_CHARS, 2)
        );
    }
}
