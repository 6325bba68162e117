fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mut sm = res::diagnostic::SourceMap::new();
    let (text, d) = res::syntax::decode(&bytes, 0);
    sm.add(path, text.clone());
    let parsed = res::syntax::parse(&text, 0);
    let mut diags: Vec<_> = d.into_iter().collect();
    diags.extend(parsed.diagnostics);
    print!("{}", res::diagnostic::render_all(&diags, &sm, Default::default()));
    println!("{} items", parsed.file.items.len());
}
