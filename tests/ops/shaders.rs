//! Every shader parses and validates under naga, with no device needed.

#[test]
fn every_shader_validates() {
    let mut failures = Vec::new();
    for (name, _) in kiln::kernels::SHADERS {
        if let Err(e) = kiln::kernels::validate(name) {
            failures.push(e.to_string());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn unknown_shader_is_an_error() {
    let err = kiln::kernels::validate("no_such_kernel").unwrap_err();
    assert!(err.to_string().contains("no_such_kernel"), "{err}");
}
