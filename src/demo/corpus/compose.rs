//! Filling the pieces of a request: who writes, where, slot rendering and human typos.

use std::fmt::Write as _;

use super::places;
use super::topics::{DAYS, HOUSE_SUFFIX, MISSPELL, PART, RECENT, SINCE, WAIT};
use super::{Ctx, Generator, House, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, Loc};

impl Generator {
    pub(super) fn citizen(&mut self, female: bool) -> (String, bool) {
        let (first, latin) = self.pick(if female {
            places::FEMALE_NAMES
        } else {
            places::MALE_NAMES
        });
        let surname = self.pick(places::SURNAMES);
        let (pm, pf) = self.pick(places::PATRONYMICS);
        let patronymic = if female { pf } else { pm };
        let mut s = String::with_capacity(48);
        let r = self.below(100);
        if r < 30 {
            s.push_str(first);
            s.push(' ');
            places::push_surname(&mut s, surname, female);
        } else if r < 43 {
            s.push_str(first);
        } else if r < 52 {
            s.push_str(first);
            s.push(' ');
            s.extend(surname.chars().next());
            s.push('.');
        } else if r < 58 {
            places::push_surname(&mut s, surname, female);
            s.push(' ');
            s.push_str(first);
            s.push(' ');
            s.push_str(patronymic);
        } else if r < 65 {
            s.push_str(first);
            s.push(' ');
            s.push_str(patronymic);
        } else {
            s.push('@');
            match self.below(6) {
                0 => {
                    s.push_str("krd_");
                    s.push_str(latin);
                }
                1 => {
                    s.push_str(latin);
                    s.push_str("_krd");
                }
                2 => {
                    s.push_str(latin);
                    s.push_str("_23");
                }
                3 => {
                    s.push_str(latin);
                    s.push_str("_kuban");
                }
                _ => {
                    s.push_str(latin);
                    let year = (1960 + self.below(48)) % 100;
                    let _ = write!(s, "{year:02}");
                }
            }
            return (s, false);
        }
        (s, true)
    }

    pub(super) fn pick_loc(&mut self, loc_p: f64) -> Loc {
        let vague = self.pick(places::VAGUE);
        if !self.chance(loc_p) {
            return Loc::Vague(vague);
        }
        if self.chance(0.84) {
            let s = &places::STREETS[self.below(places::STREETS.len() as u64) as usize];
            let r = self.below(100);
            let num = 1 + if r < 60 {
                self.below(60)
            } else if r < 90 {
                self.below(200)
            } else {
                self.below(350)
            };
            let suffix = if self.chance(0.22) {
                self.pick(HOUSE_SUFFIX)
            } else {
                ""
            };
            let mode = self.below(8) as u8;
            Loc::Street {
                s,
                house: House { num, suffix },
                mode,
                vague,
            }
        } else {
            let m = &places::MICROS[self.below(places::MICROS.len() as u64) as usize];
            Loc::Micro {
                m,
                form: self.below(2) as usize,
            }
        }
    }

    /// Address and coordinates for the request's place.
    pub(super) fn place(&mut self, loc: &Loc) -> (Option<String>, Option<f64>, Option<f64>) {
        let (address, center, radius) = match *loc {
            Loc::Street { s, house, mode, .. } => {
                let mut a = String::with_capacity(s.nom.len() + 8);
                a.push_str(s.nom);
                if mode != 4 {
                    a.push_str(", ");
                    push_house(&mut a, house);
                }
                (Some(a), Some((s.lat, s.lon)), 0.004)
            }
            Loc::Micro { m, .. } => (Some(m.addr.to_owned()), Some((m.lat, m.lon)), 0.008),
            Loc::Vague(_) => (None, None, 0.004),
        };
        let geo_p = if address.is_some() { 0.7 } else { 0.12 };
        if !self.chance(geo_p) {
            return (address, None, None);
        }
        let (lat0, lon0) = match center {
            Some(c) => c,
            None => {
                let s = &places::STREETS[self.below(places::STREETS.len() as u64) as usize];
                (s.lat, s.lon)
            }
        };
        let lat = round6((lat0 + (self.unit() * 2.0 - 1.0) * radius).clamp(LAT_MIN, LAT_MAX));
        let lon = round6((lon0 + (self.unit() * 2.0 - 1.0) * radius * 1.4).clamp(LON_MIN, LON_MAX));
        (address, Some(lat), Some(lon))
    }

    /// Appends a sentence rendered from `tpl`, capitalized; returns its start.
    pub(super) fn sentence(&mut self, out: &mut String, tpl: &str, ctx: &mut Ctx) -> usize {
        if !out.is_empty() {
            out.push(' ');
        }
        let start = out.len();
        self.render(out, tpl, ctx);
        capitalize_at(out, start);
        start
    }

    pub(super) fn push_plain(&mut self, out: &mut String, list: &[&str]) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(self.pick(list));
    }

    /// Appends `n` distinct sentences drawn from `a` followed by `b` (64 entries at most).
    pub(super) fn push_distinct(
        &mut self,
        out: &mut String,
        a: &[&str],
        b: &[&str],
        n: u64,
        ctx: &mut Ctx,
    ) {
        let len = (a.len() + b.len()).min(64) as u64;
        let mut used = 0u64;
        for _ in 0..n.min(len) {
            let mut i = self.below(len);
            while used & (1 << i) != 0 {
                i = (i + 1) % len;
            }
            used |= 1 << i;
            let i = i as usize;
            let tpl = if i < a.len() { a[i] } else { b[i - a.len()] };
            self.sentence(out, tpl, ctx);
        }
    }

    pub(super) fn push_trailer(&mut self, out: &mut String, ctx: &Ctx) {
        match ctx.loc {
            Loc::Vague(_) => {}
            Loc::Street { s, house, mode, .. } => {
                out.push_str(if self.chance(0.7) {
                    " Адрес: "
                } else {
                    " Адрес — "
                });
                out.push_str(s.nom);
                if mode != 4 {
                    out.push_str(", ");
                    push_house(out, house);
                }
                out.push('.');
            }
            Loc::Micro { m, form } => {
                if self.chance(0.5) {
                    out.push_str(" Это ");
                    out.push_str(m.at[form]);
                } else {
                    out.push_str(" Район: ");
                    out.push_str(m.addr);
                }
                out.push('.');
            }
        }
    }

    pub(super) fn render(&mut self, out: &mut String, tpl: &str, ctx: &mut Ctx) {
        let mut rest = tpl;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').expect("unclosed slot in a corpus template");
            self.slot(out, &after[..close], ctx);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
    }

    pub(super) fn slot(&mut self, out: &mut String, key: &str, ctx: &mut Ctx) {
        match key {
            "at" => self.push_at(out, ctx),
            "since" => out.push_str(self.pick(SINCE)),
            "recent" => out.push_str(self.pick(RECENT)),
            "part" => out.push_str(self.pick(PART)),
            "wait" => out.push_str(self.pick(WAIT)),
            "days" => out.push_str(self.pick(DAYS)),
            "stop" => out.push_str(ctx.stop),
            "g" => out.push_str(if ctx.female { "а" } else { "" }),
            "rg" => out.push_str(if ctx.route_kind.feminine { "а" } else { "" }),
            "route" | "route_gen" | "route_loc" | "route_acc" => {
                let k = ctx.route_kind;
                out.push_str(match key {
                    "route" => k.nom,
                    "route_gen" => k.gen_,
                    "route_loc" => k.loc,
                    _ => k.acc,
                });
                out.push_str(match ctx.route_style {
                    0 => " № ",
                    1 => " №",
                    _ => " ",
                });
                let _ = write!(out, "{}{}", ctx.route_num, ctx.route_letter);
            }
            "clock" => {
                let h = 5 + self.below(18);
                let m = self.below(12) * 5;
                let _ = write!(out, "{h}:{m:02}");
            }
            "heat" => {
                let t = 33 + self.below(10);
                let _ = write!(out, "+{t}");
            }
            "school" => {
                let n = 1 + self.below(100);
                let _ = write!(out, "{n}");
            }
            _ => debug_assert!(false, "unknown corpus slot {{{key}}}"),
        }
    }

    pub(super) fn push_at(&mut self, out: &mut String, ctx: &mut Ctx) {
        match ctx.loc {
            Loc::Vague(v) => out.push_str(v),
            Loc::Micro { m, form } => {
                out.push_str(m.at[form]);
                ctx.loc_used = true;
            }
            Loc::Street {
                s,
                house,
                mode,
                vague,
            } => {
                match mode {
                    0 => {
                        out.push_str("на ");
                        out.push_str(s.loc);
                        out.push_str(", ");
                        push_house(out, house);
                    }
                    1 => {
                        out.push_str("по адресу ");
                        out.push_str(s.nom);
                        out.push_str(", ");
                        push_house(out, house);
                    }
                    2 => {
                        out.push_str("возле дома ");
                        push_house(out, house);
                        out.push_str(" на ");
                        out.push_str(s.loc);
                    }
                    3 => {
                        out.push_str("у дома № ");
                        push_house(out, house);
                        out.push_str(" по ");
                        out.push_str(s.dat);
                    }
                    4 => {
                        out.push_str("на ");
                        out.push_str(s.loc);
                    }
                    5 => {
                        out.push_str("в районе ");
                        out.push_str(s.gen_);
                        out.push_str(", ");
                        push_house(out, house);
                    }
                    6 => {
                        out.push_str("на ");
                        out.push_str(s.loc);
                        out.push_str(" в районе дома ");
                        push_house(out, house);
                    }
                    _ => {
                        // Named later, in an "Адрес: ..." sentence.
                        out.push_str(vague);
                        return;
                    }
                }
                ctx.loc_used = true;
            }
        }
    }

    /// One human slip: swapped, dropped or doubled letter, a lost comma or period space,
    /// a lowercase start, "ул" without a period, or a common misspelling.
    pub(super) fn typo(&mut self, text: &mut String) {
        match self.below(10) {
            0..=2 => {
                if let Some(i) = self.letter_pair(text) {
                    let b = text.as_bytes();
                    let buf = [b[i + 2], b[i + 3], b[i], b[i + 1]];
                    if let Ok(swapped) = std::str::from_utf8(&buf) {
                        text.replace_range(i..i + 4, swapped);
                    }
                }
            }
            3 => {
                if let Some(i) = self.letter_pair(text) {
                    text.remove(i);
                }
            }
            4 => {
                if let Some(i) = self.letter_pair(text) {
                    let c = text[i..].chars().next().unwrap_or('а');
                    text.insert(i, c);
                }
            }
            5 => {
                if let Some(i) = text.find(", ") {
                    text.remove(i);
                }
            }
            6 => {
                if let Some(c) = text.chars().next()
                    && c.is_uppercase()
                {
                    let lower: String = c.to_lowercase().collect();
                    if lower.len() == c.len_utf8() {
                        text.replace_range(..c.len_utf8(), &lower);
                    }
                }
            }
            7 => {
                if let Some(i) = text.find("ул. ") {
                    text.remove(i + "ул".len());
                }
            }
            8 => {
                let from = self.below(text.len() as u64) as usize;
                let from = (from..text.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(text.len());
                if let Some(j) = text[from..].find(". ") {
                    text.remove(from + j + 1);
                }
            }
            _ => {
                let start = self.below(MISSPELL.len() as u64) as usize;
                for k in 0..MISSPELL.len() {
                    let (right, wrong) = MISSPELL[(start + k) % MISSPELL.len()];
                    if let Some(i) = text.find(right) {
                        text.replace_range(i..i + right.len(), wrong);
                        break;
                    }
                }
            }
        }
    }

    /// Byte offset of two adjacent lowercase Cyrillic letters, searched from a random point.
    pub(super) fn letter_pair(&mut self, text: &str) -> Option<usize> {
        let from = self.below(text.len() as u64) as usize;
        let from = (from..text.len()).find(|&i| text.is_char_boundary(i))?;
        let is_cyr = |c: char| ('а'..='я').contains(&c);
        let mut prev: Option<(usize, char)> = None;
        for (i, c) in text[from..].char_indices() {
            if let Some((pi, pc)) = prev
                && is_cyr(pc)
                && is_cyr(c)
            {
                return Some(from + pi);
            }
            prev = Some((i, c));
        }
        None
    }
}

pub(super) fn push_house(out: &mut String, h: House) {
    let _ = write!(out, "{}{}", h.num, h.suffix);
}

pub(super) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Uppercases the first character at `start` when case mapping keeps its length.
pub(super) fn capitalize_at(s: &mut String, start: usize) {
    if let Some(c) = s[start..].chars().next()
        && c.is_lowercase()
    {
        let mut up = c.to_uppercase();
        if let (Some(u), None) = (up.next(), up.next())
            && u.len_utf8() == c.len_utf8()
        {
            let mut buf = [0u8; 4];
            s.replace_range(start..start + c.len_utf8(), u.encode_utf8(&mut buf));
        }
    }
}
