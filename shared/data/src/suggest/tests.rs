use super::*;
use crate::infer::infer_column;

fn columns(table: &[(&str, &[&str])]) -> Vec<Column> {
    let profiles = table
        .iter()
        .map(|(name, values)| infer_column(name, values))
        .collect();
    crate::source::merge_columns(Vec::new(), profiles)
}

fn contact() -> Vec<FieldDef> {
    relinx_crm::contact::definition(&relinx_crm::Schema::default())
}

fn target<'a>(s: &'a Suggestion, field: &str) -> Option<&'a Suggested> {
    s.fields.iter().find(|f| f.target == field)
}

#[test]
fn names_are_words_whatever_their_spelling() {
    assert_eq!(words("\u{feff}E-mail"), ["e", "mail"]);
    assert_eq!(words("firstName"), ["first", "name"]);
    assert_eq!(words("HTTPServer_URL"), ["http", "server", "url"]);
    assert_eq!(words("Email Addresses"), ["email", "address"]);
    assert_eq!(words("ＺＩＰ"), ["zip"], "NFKC folds full-width letters");
    assert_eq!(words(" -- "), Vec::<String>::new(), "never an empty word");
}

#[test]
fn the_issue_example_onto_contact() {
    let cols = columns(&[
        ("E-mail", &["ann@example.com", "bob@example.com"]),
        ("fname", &["Ann", "Bob"]),
        ("Last Name", &["Lee", "Ray"]),
        ("dob", &["31/12/1990", "21/02/1985"]),
        ("zip", &["02134", "10001"]),
        ("amount", &["1.5", "20"]),
        ("Email consent", &["yes", "no"]),
    ]);
    let s = suggest(&cols, &contact(), &[]);
    let emails = target(&s, "emails").unwrap();
    assert_eq!(emails.expr, "`E-mail`");
    assert!(emails.why.contains("synonym"), "{}", emails.why);
    assert!(emails.why.contains("e-mail addresses"), "{}", emails.why);
    assert_eq!(target(&s, "first_name").unwrap().expr, "fname");
    let last = target(&s, "last_name").unwrap();
    assert_eq!(last.expr, "`Last Name`");
    assert_eq!(last.confidence, 1.0, "{}", last.why);
    assert!(s.unmapped_columns.contains(&"Email consent".to_owned()));
    assert_eq!(s, suggest(&cols, &contact(), &[]), "deterministic");
}

#[test]
fn a_consent_column_is_never_the_address() {
    let cols = columns(&[("Email consent", &["yes", "no"]), ("Name", &["Ann", "Bob"])]);
    let s = suggest(&cols, &contact(), &[]);
    assert!(target(&s, "emails").is_none(), "{s:?}");
    assert_eq!(target(&s, "full_name").unwrap().expr, "Name");
}

#[test]
fn a_precedent_is_named_and_ties_stay_unmapped() {
    let fields = vec![FieldDef::new("postal_code", DataType::String, "")];
    let cols = columns(&[("zip", &["02134"])]);
    let precedent = Precedent {
        mapping: "crm import".into(),
        column: "ZIP".into(),
        target: "postal_code".into(),
    };
    let s = suggest(&cols, &fields, &[precedent]);
    assert!(
        s.fields[0]
            .why
            .contains("mapped so in mapping \"crm import\""),
        "{s:?}"
    );

    // Two columns equally like one field: neither is guessed.
    let fields = vec![FieldDef::new("phone", DataType::String, "")];
    let cols = columns(&[("mobile", &["1"]), ("cell", &["2"])]);
    let s = suggest(&cols, &fields, &[]);
    assert!(s.fields.is_empty(), "{s:?}");
    assert_eq!(s.unmapped_columns, ["mobile", "cell"]);
}

#[test]
fn text_into_a_number_is_converted() {
    let fields = vec![FieldDef::new("amount", DataType::Number, "")];
    let cols = columns(&[("amount", &["1", "n/a"])]);
    let s = suggest(&cols, &fields, &[]);
    assert_eq!(s.fields[0].expr, "to_number(amount)");
    assert!(s.fields[0].confidence < 1.0);
}

#[test]
fn no_name_is_in_two_synonym_groups() {
    let groups = synonym_groups(include_str!("../../words/synonyms.txt"));
    let mut seen = BTreeMap::new();
    for (i, group) in groups.iter().enumerate() {
        for name in group {
            if let Some(other) = seen.insert(name.clone(), i) {
                assert_eq!(other, i, "{name:?} is in two groups");
            }
        }
    }
    assert!(groups.len() > 20);
}
