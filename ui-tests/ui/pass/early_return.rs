//! Early `return` and `?` inside the body return from the user's function, with the declared
//! return type.
#![allow(dead_code)]

use cached_query::cached_query;

#[derive(Debug)]
struct ParseError;

impl From<std::num::ParseIntError> for ParseError {
    fn from(_: std::num::ParseIntError) -> Self {
        ParseError
    }
}

#[cached_query]
async fn parse(text: String) -> Result<u64, ParseError> {
    if text.is_empty() {
        return Err(ParseError);
    }
    let value: u64 = text.trim().parse()?;
    Ok(value)
}

#[cached_query]
async fn first_even(values: Vec<u32>) -> Option<u32> {
    for value in values {
        if value % 2 == 0 {
            return Some(value);
        }
    }
    None
}

#[cached_query]
async fn option_question_mark(values: Vec<u32>) -> Option<u32> {
    let first = values.first()?;
    Some(*first + 1)
}

#[cached_query]
async fn boxed_error(text: String) -> Result<i32, String> {
    let n = text.parse::<i32>().map_err(|e| e.to_string())?;
    if n < 0 {
        return Ok(0);
    }
    Ok(n)
}

#[cached_query]
async fn plain_return(flag: bool) -> String {
    if flag {
        return "yes".to_owned();
    }
    "no".into()
}

#[cached_query]
async fn return_in_closure(values: Vec<u32>) -> u32 {
    // A `return` inside a closure or an async block returns from that, not from the function.
    let doubled: Vec<u32> = values.iter().map(|v| return v * 2).collect();
    let inner = async { return 1u32 }.await;
    doubled.iter().sum::<u32>() + inner
}

fn main() {}
