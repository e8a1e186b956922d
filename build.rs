//! Compiles the wire contract with a pure-Rust protobuf compiler (no system
//! `protoc`) and writes the descriptor set that server reflection serves;
//! turns the public-holiday table `data/holidays.txt` into static bitsets
//! (`OUT_DIR/holidays.rs`, included by `src/domain/withdrawal.rs`).

use std::{collections::BTreeMap, env, fmt::Write as _, fs, path::Path, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/refund/eligibility/v1/eligibility.proto";
    println!("cargo:rerun-if-changed={proto}");
    println!("cargo:rerun-if-changed=proto/google/rpc/status.proto");
    let fds = protox::compile([proto], ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out.join("eligibility_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    let mut config = prost_build::Config::new();
    // prost::Name on every message: the JSON mapping looks descriptors up by full name.
    config.enable_type_names();
    // An EvaluateClaims item's error is tonic-types' google.rpc.Status, the
    // very type a unary call's `grpc-status-details-bin` decodes to.
    config.extern_path(".google.rpc.Status", "::tonic_types::Status");
    // The messages and the client; the server is generated below.
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds_with_config(fds.clone(), config)?;

    // The server alone, over the messages above, except that EvaluateClaim
    // answers with the encode-only `grpc::answer::EvaluateClaimAnswer`
    // (the same bytes as an EvaluateClaimResponse, written without copying
    // the policies' texts into owned strings first).
    let server_out = out.join("server");
    fs::create_dir_all(&server_out)?;
    let mut server = prost_build::Config::new();
    server.extern_path(".refund.eligibility.v1", "crate::grpc::pb");
    server.extern_path(
        ".refund.eligibility.v1.EvaluateClaimResponse",
        "crate::grpc::answer::EvaluateClaimAnswer",
    );
    server.extern_path(".google.rpc.Status", "::tonic_types::Status");
    tonic_prost_build::configure()
        .build_client(false)
        .out_dir(&server_out)
        .compile_fds_with_config(fds, server)?;

    // google.rpc.BadRequest, for reflection only (no Rust code generated).
    let details = "proto/google/rpc/error_details.proto";
    println!("cargo:rerun-if-changed={details}");
    let details_fds = protox::compile([details], ["proto"])?;
    fs::write(
        out.join("error_details_descriptor.bin"),
        prost::Message::encode_to_vec(&details_fds),
    )?;

    holiday_table(&out)?;
    Ok(())
}

/// Words of one year's day-of-year bitset (bit `ordinal0 % 64` of word `ordinal0 / 64`).
const HOLIDAY_WORDS: usize = 6;

/// Reads `data/holidays.txt` (written by scripts/holidays/generate.py: lines
/// `CODE YEAR MMDD...`, `#` comments) and writes `OUT_DIR/holidays.rs`: per
/// country a static array of per-year bitsets over one common year range,
/// and `holiday_bits(code, year)`, `HOLIDAY_FIRST_YEAR`, `HOLIDAY_LAST_YEAR`.
/// Any malformed line, or a country missing a year of the range, fails the build.
fn holiday_table(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let path = "data/holidays.txt";
    println!("cargo:rerun-if-changed={path}");
    let text = fs::read_to_string(path).map_err(|e| format!("{path}: {e} (see scripts/holidays/README.md)"))?;
    let mut table: BTreeMap<String, BTreeMap<i32, [u64; HOLIDAY_WORDS]>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: &str| format!("{path}:{}: {what}: {line}", n + 1);
        let mut fields = line.split_ascii_whitespace();
        let code = fields.next().ok_or_else(|| bad("no country"))?;
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad("bad country code").into());
        }
        let year: i32 = fields
            .next()
            .and_then(|y| y.parse().ok())
            .ok_or_else(|| bad("bad year"))?;
        let mut bits = [0u64; HOLIDAY_WORDS];
        for day in fields {
            let (month, dom): (u32, u32) = match (day.get(..2).map(str::parse), day.get(2..).map(str::parse)) {
                (Some(Ok(m)), Some(Ok(d))) if day.len() == 4 => (m, d),
                _ => return Err(bad("bad MMDD").into()),
            };
            let ordinal0 = ordinal0(year, month, dom).ok_or_else(|| bad("no such date"))?;
            let word = bits
                .get_mut(ordinal0 / 64)
                .ok_or_else(|| bad("day of year out of range"))?;
            *word |= 1 << (ordinal0 % 64);
        }
        if table.entry(code.to_owned()).or_default().insert(year, bits).is_some() {
            return Err(bad("duplicate country and year").into());
        }
    }
    let years: Vec<i32> = table.values().flat_map(|t| t.keys().copied()).collect();
    let (Some(&first), Some(&last)) = (years.iter().min(), years.iter().max()) else {
        return Err(format!("{path}: no data").into());
    };
    let mut code = String::new();
    writeln!(code, "// @generated by build.rs from {path}: do not edit.")?;
    writeln!(code, "/// First year of the holiday table.")?;
    writeln!(code, "pub const HOLIDAY_FIRST_YEAR: i32 = {first};")?;
    writeln!(code, "/// Last year of the holiday table.")?;
    writeln!(code, "pub const HOLIDAY_LAST_YEAR: i32 = {last};")?;
    writeln!(code, "/// Countries of the holiday table, ISO 3166-1 alpha-2.")?;
    let names: Vec<String> = table.keys().map(|c| format!("*b\"{c}\"")).collect();
    writeln!(
        code,
        "pub const HOLIDAY_COUNTRIES: [[u8; 2]; {}] = [{}];",
        names.len(),
        names.join(", ")
    )?;
    for (country, by_year) in &table {
        writeln!(
            code,
            "static HOLIDAYS_{country}: [[u64; {HOLIDAY_WORDS}]; {}] = [",
            last - first + 1
        )?;
        for year in first..=last {
            let bits = by_year
                .get(&year)
                .ok_or_else(|| format!("{path}: {country} has no line for {year}"))?;
            let words: Vec<String> = bits.iter().map(|w| format!("{w:#x}")).collect();
            writeln!(code, "    [{}], // {year}", words.join(", "))?;
        }
        writeln!(code, "];")?;
    }
    writeln!(
        code,
        "/// The day-of-year bitset of `country`'s public holidays in `year`"
    )?;
    writeln!(
        code,
        "/// (bit `ordinal0 % 64` of word `ordinal0 / 64`); None outside the table."
    )?;
    writeln!(
        code,
        "pub fn holiday_bits(country: [u8; 2], year: i32) -> Option<&'static [u64; {HOLIDAY_WORDS}]> {{"
    )?;
    writeln!(
        code,
        "    let years: &'static [[u64; {HOLIDAY_WORDS}]] = match &country {{"
    )?;
    for country in table.keys() {
        writeln!(code, "        b\"{country}\" => &HOLIDAYS_{country},")?;
    }
    writeln!(code, "        _ => return None,")?;
    writeln!(code, "    }};")?;
    writeln!(
        code,
        "    years.get(usize::try_from(year.checked_sub(HOLIDAY_FIRST_YEAR)?).ok()?)"
    )?;
    writeln!(code, "}}")?;
    fs::write(out.join("holidays.rs"), code)?;
    Ok(())
}

/// Zero-based day of the year of a Gregorian date, None when it does not exist.
fn ordinal0(year: i32, month: u32, day: u32) -> Option<usize> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let lengths = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let index = usize::try_from(month.checked_sub(1)?).ok()?;
    let length = *lengths.get(index)?;
    if day == 0 || day > length {
        return None;
    }
    let before: u32 = lengths.iter().take(index).sum();
    usize::try_from(before + day - 1).ok()
}
