//! The `dawa:` DAR provider against a DAWA stand-in on 127.0.0.1.

#[path = "support/dar_standin.rs"]
mod dar_standin;
#[path = "support/http.rs"]
mod http;

use moport::bindings::moport::host::types::CallError;
use moport::caps::dar::Dawa;

const KNOWN: (&str, &str) = ("Testvej 1, 8000 Aarhus C", "0a3f50a0-75eb-32b8-e044-0003ba298018");

#[tokio::test]
async fn a_confident_wash_is_an_address_a_guess_is_none_and_an_id_reads_back() {
    let dar = dar_standin::DarStandin::start(&[KNOWN]).await;
    let dawa = Dawa::new(&dar.url());
    let found = dawa.wash(KNOWN.0).await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.street.as_str(), found.house_number.as_str(), found.postcode.as_str()),
        (KNOWN.1, "Testvej", "1", "8000")
    );
    assert_eq!(found.city, "Aarhus C");
    assert!(dawa.wash("Ukendtvej 99").await.unwrap().is_none(), "category C is not a match");
    assert_eq!(dawa.address(KNOWN.1).await.unwrap().unwrap().text, KNOWN.0);
    assert!(dawa.address("00000000-0000-0000-0000-000000000000").await.unwrap().is_none(), "404 is none");
}

#[tokio::test]
async fn a_busy_service_is_tried_again_and_a_dead_one_named() {
    let dar = dar_standin::DarStandin::start(&[KNOWN]).await;
    let dawa = Dawa::new(&dar.url());
    dar.fail_next(2);
    assert!(dawa.wash(KNOWN.0).await.unwrap().is_some());
    assert_eq!(dar.requests(), 3, "two 503s, then the answer");
    dar.fail_next(10);
    let err = dawa.wash(KNOWN.0).await.unwrap_err();
    let CallError::Unavailable(message) = err else { panic!("{err:?}") };
    assert!(message.contains("503") && message.contains("4 tries"), "{message}");
    assert!(!message.contains("Testvej"), "the address text stays out of the message: {message}");
}
