fn main() {
    println!("ruleforge");
}
