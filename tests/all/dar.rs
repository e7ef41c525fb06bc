//! The `adressevask` DAR provider against an Adressevask stand-in on 127.0.0.1.

use crate::support::dar_standin;

use dar_standin::{DarStandin, TOKEN};
use moport_dar::{Adressevask, DarProvider};
use moport_manifest::secret::Secret;
use moport_types::CallError;
use std::sync::Arc;

const KNOWN: (&str, &str) = ("Testvej 1, 8000 Aarhus C", "0a3f50a0-75eb-32b8-e044-0003ba298018");

fn service(dar: &DarStandin, accepted: &[i32]) -> Adressevask {
    Adressevask::new(&dar.url(), Secret::new(TOKEN), accepted.to_vec())
}

#[tokio::test]
async fn an_accepted_wash_is_an_address_other_codes_are_none_and_an_id_reads_back() {
    let dar = DarStandin::start(&[KNOWN]).await;
    let by_default = service(&dar, &[1000, 900]);
    let found = by_default.wash(KNOWN.0).await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.street.as_str(), found.house_number.as_str(), found.postcode.as_str()),
        (KNOWN.1, "Testvej", "1", "8000")
    );
    assert_eq!((found.city.as_str(), found.text.as_str()), ("Aarhus C", KNOWN.0));
    let variant = by_default.wash("testvej  1, 8000 aarhus c").await.unwrap().unwrap();
    assert_eq!(variant.id, KNOWN.1, "code 900, a spelling variant, is accepted by default");
    assert!(by_default.wash("Ukendtvej 99, 8000 Aarhus C").await.unwrap().is_none(), "code 800 is a guess");
    assert!(by_default.wash("Ukendtvej 99").await.unwrap().is_none(), "code -300: no postcode");
    let exact_only = service(&dar, &[1000]);
    assert!(exact_only.wash("testvej  1, 8000 aarhus c").await.unwrap().is_none(), "900 not accepted");
    let guesses_too = service(&dar, &[1000, 900, 800]);
    assert!(guesses_too.wash("Ukendtvej 99, 8000 Aarhus C").await.unwrap().is_none(), "the guess is not in DAR");
    let last = dar.ids_asked().last().cloned().unwrap();
    assert_eq!(last, ["00000000-0000-4000-8000-00000000dead"], "with 800 accepted, the guess is read");
    assert_eq!(by_default.address(KNOWN.1).await.unwrap().unwrap().text, KNOWN.0);
    assert!(by_default.address("00000000-0000-0000-0000-000000000000").await.unwrap().is_none(), "404 is none");
}

#[tokio::test]
async fn many_ids_are_read_a_hundred_a_request_and_unknown_ones_left_out() {
    let known: Vec<(String, String)> =
        (0..250).map(|n| (format!("Vej {n}, 8000 Aarhus C"), format!("00000000-0000-4000-8000-{n:012}"))).collect();
    let pairs: Vec<(&str, &str)> = known.iter().map(|(text, id)| (text.as_str(), id.as_str())).collect();
    let dar = DarStandin::start(&pairs).await;
    let mut ids: Vec<&str> = pairs.iter().map(|(_, id)| *id).collect();
    ids.push("00000000-0000-4000-8000-999999999999");
    ids.push("not a uuid");
    let provider = DarProvider::Adressevask(Arc::new(service(&dar, &[1000])));
    let found = provider.addresses(&ids).await.unwrap();
    assert_eq!(found.len(), 250);
    assert_eq!(found["00000000-0000-4000-8000-000000000042"].text, "Vej 42, 8000 Aarhus C");
    let sizes: Vec<usize> = dar.ids_asked().iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 51], "only UUIDs are asked about, 100 a request");
}

#[tokio::test]
async fn a_busy_service_is_tried_again_and_a_dead_one_named_without_the_text_or_token() {
    let dar = DarStandin::start(&[KNOWN]).await;
    let adressevask = service(&dar, &[1000]);
    dar.fail_next(2);
    assert!(adressevask.wash(KNOWN.0).await.unwrap().is_some());
    assert_eq!(dar.requests(), 4, "two 503s, the wash, then the address read");
    dar.fail_next(10);
    let err = adressevask.wash(KNOWN.0).await.unwrap_err();
    let CallError::Unavailable(message) = err else { panic!("{err:?}") };
    assert!(message.contains("503") && message.contains("4 tries") && message.contains("/vask/"), "{message}");
    assert!(!message.contains("Testvej") && !message.contains(TOKEN), "text and token stay out: {message}");
}

#[tokio::test]
async fn a_refused_token_names_where_the_token_is_set() {
    let dar = DarStandin::start(&[KNOWN]).await;
    let wrong = Adressevask::new(&dar.url(), Secret::new("an-old-token"), vec![1000]);
    let err = wrong.wash(KNOWN.0).await.unwrap_err();
    let CallError::Unavailable(message) = err else { panic!("{err:?}") };
    assert!(message.contains("refused the token (403 Forbidden)"), "{message}");
    assert!(message.contains("[host.adressevask]") && !message.contains("an-old-token"), "{message}");
    assert_eq!(dar.requests(), 1, "a refused token is not tried again");
}
