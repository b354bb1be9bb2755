use super::*;

const EXAMPLE: &str = "E-mail,fname,Last Name,dob,zip,amount,Email consent\r\nann@example.com,Ann,Lee,31/12/1990,02134,1.5,yes\r\nbob@example.com,Bob,Ray,21/02/1985,10001,20,no\r\nzoe@example.com,Zoë,Fox,15/06/1970,00501,3.25,yes\r\n";

fn expected() -> Vec<Vec<String>> {
    EXAMPLE
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn utf8_with_a_byte_order_mark() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(EXAMPLE.as_bytes());
    let table = parse_csv(&bytes, &CsvOptions::default()).unwrap();
    assert_eq!(
        table.columns[0], "E-mail",
        "the mark is not part of the first header"
    );
    assert_eq!(table.columns.len(), 7);
    assert_eq!(table.rows, expected());
    assert_eq!(table.encoding, "UTF-8");
}

#[test]
fn windows_1252_with_semicolons_declared_or_detected() {
    let semicolons = EXAMPLE.replace(',', ";");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&semicolons);
    let declared = parse_csv(
        &bytes,
        &CsvOptions {
            encoding: Some("windows-1252".into()),
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(declared.delimiter, ';');
    assert_eq!(declared.rows, expected());
    let detected = parse_csv(&bytes, &CsvOptions::default()).unwrap();
    assert_eq!(detected.rows, expected(), "Zoë intact");
    assert_eq!(detected.encoding, "windows-1252");
}

#[test]
fn a_broken_file_names_its_line_and_gives_nothing() {
    let text = "a,b\n1,2\n3,4\n\"5,6\n7,8\n";
    let err = parse_csv(text.as_bytes(), &CsvOptions::default()).unwrap_err();
    assert_eq!(err.line, Some(4), "{err}");
    assert!(err.to_string().starts_with("line 4: "), "{err}");
    let err = parse_csv(b"a,b\n1,2,3\n", &CsvOptions::default()).unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    let err = parse_csv(b"a,,c\n1,2,3\n", &CsvOptions::default()).unwrap_err();
    assert!(err.to_string().contains("column 2 has no name"), "{err}");
    let err = parse_csv(b"a,a\n1,2\n", &CsvOptions::default()).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}

#[test]
fn a_declared_encoding_or_delimiter_must_be_one() {
    let options = CsvOptions {
        encoding: Some("klingon".into()),
        ..CsvOptions::default()
    };
    assert!(
        parse_csv(b"a\n1\n", &options)
            .unwrap_err()
            .to_string()
            .contains("encoding")
    );
    let options = CsvOptions {
        delimiter: Some('x'),
        ..CsvOptions::default()
    };
    assert!(
        parse_csv(b"a\n1\n", &options)
            .unwrap_err()
            .to_string()
            .contains("delimiter")
    );
    let tabs = parse_csv(b"a\tb\n1\t2\n", &CsvOptions::default()).unwrap();
    assert_eq!(
        (tabs.delimiter, tabs.rows.clone()),
        ('\t', vec![vec!["1".to_owned(), "2".to_owned()]])
    );
    let quoted = parse_csv(b"\"a,b\";c\n1;2\n", &CsvOptions::default()).unwrap();
    assert_eq!(
        quoted.columns,
        ["a,b", "c"],
        "a delimiter inside quotes does not count"
    );
}

#[test]
fn json_and_ndjson_of_the_same_rows_give_the_same_table() {
    let csv = parse_csv(EXAMPLE.as_bytes(), &CsvOptions::default()).unwrap();
    let objects: Vec<serde_json::Value> = csv
        .rows
        .iter()
        .map(|row| {
            serde_json::Value::Object(
                csv.columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        })
        .collect();
    let ndjson: String = objects.iter().map(|o| format!("{o}\n")).collect();
    let from_ndjson = parse_json(ndjson.as_bytes(), true).unwrap();
    let array = serde_json::to_string(&objects).unwrap();
    let from_array = parse_json(array.as_bytes(), false).unwrap();
    for table in [&from_ndjson, &from_array] {
        let mut columns = table.columns.clone();
        let mut expected = csv.columns.clone();
        columns.sort();
        expected.sort();
        assert_eq!(columns, expected);
        for (row, csv_row) in table.rows.iter().zip(&csv.rows) {
            for (column, value) in table.columns.iter().zip(row) {
                let at = csv.columns.iter().position(|c| c == column).unwrap();
                assert_eq!(value, &csv_row[at], "{column}");
            }
        }
    }
}

#[test]
fn json_values_keep_their_text_and_bad_lines_are_named() {
    let table = parse_json(br#"[{"a": 1.50, "b": true}, {"b": null, "c": [1]}]"#, false).unwrap();
    assert_eq!(table.columns, ["a", "b", "c"]);
    assert_eq!(table.rows[0], ["1.5", "true", ""]);
    assert_eq!(table.rows[1], ["", "", "[1]"]);
    let err = parse_json(b"{\"a\": 1}\n{\"a\": \n", true).unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    let err = parse_json(b"{\"a\": 1}\n[1]\n", true).unwrap_err();
    assert!(err.to_string().contains("line 2 is not an object"), "{err}");
    assert!(
        parse_json(b"{}", false).is_err(),
        "an object is not an array of rows"
    );
}
