//! A balance read from more than one operation: the projections of the further calls folded
//! into the balance operation's (new-api: the usage's `total_usage` subtracted from the
//! subscription's `hard_limit_usd`). Division and subtraction stay in the facade, which
//! knows the description's divisor and keeps them exact.

use crate::projection::{Failure, Projection};

/// `main` with each further projection's one amount recorded as what its rows' totals
/// lose ([`crate::projection::Row::subtracted`]). A further projection has exactly one row
/// with a total; anything else is a failure naming it.
pub fn subtract_from_totals(
    mut main: Projection,
    further: &[Projection],
) -> Result<Projection, Failure> {
    for projection in further {
        let amount = match projection.rows.as_slice() {
            [row] => row
                .total
                .ok_or_else(|| Failure::Invalid(format!("{} has no amount", row.at)))?,
            rows => {
                return Err(Failure::Invalid(format!(
                    "a further operation gave {} amounts, not one",
                    rows.len()
                )));
            }
        };
        for row in &mut main.rows {
            row.subtracted = Some(match row.subtracted {
                None => amount,
                Some(already) => already
                    .checked_add(amount)
                    .ok_or_else(|| Failure::Invalid("the amounts overflow".into()))?,
            });
        }
    }
    Ok(main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::Row;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn row(at: &str, total: Option<&str>) -> Row {
        let mut row = Row::at(at);
        row.total = total.map(|t| Decimal::from_str(t).unwrap());
        row
    }

    #[test]
    fn the_further_amount_is_recorded_on_every_row_and_must_be_one() {
        let main = Projection::new(None, vec![row("the body", Some("100.0"))]);
        let usage = Projection::new(None, vec![row("total_usage", Some("2500.0"))]);
        let combined = subtract_from_totals(main.clone(), &[usage]).unwrap();
        assert_eq!(
            combined.rows[0].subtracted,
            Some(Decimal::from_str("2500.0").unwrap())
        );
        assert_eq!(combined.rows[0].total, main.rows[0].total);

        let none = Projection::new(None, vec![row("total_usage", None)]);
        let error = subtract_from_totals(main.clone(), &[none]).unwrap_err();
        assert_eq!(error.to_string(), "total_usage has no amount");
        let two = Projection::new(None, vec![row("a", Some("1")), row("b", Some("2"))]);
        assert!(subtract_from_totals(main.clone(), &[two]).is_err());
        assert_eq!(subtract_from_totals(main.clone(), &[]).unwrap(), main);
    }
}
