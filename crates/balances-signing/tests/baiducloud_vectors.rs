//! Baidu AI Cloud `bce-auth-v1`: every published vector of
//! `../shared/vendor-specs/baiducloud/examples.md`, byte for byte.

use balances_signing::{
    CanonicalParts, Credentials, SigningError, SigningRequest, SigningTime, baiducloud,
};
use secrecy::{ExposeSecret, SecretString};

fn credentials(id: &str, secret: &str) -> Credentials {
    Credentials::new(SecretString::from(id), SecretString::from(secret))
        .expect("vector credentials are valid")
}

/// §3, the documents' example (BOS upload part), through `baiducloud::sign`: its unsigned
/// `Date` header included, `x-bce-date` set by the signer to the same timestamp.
#[test]
fn documented_example_put_readme() -> Result<(), SigningError> {
    let credentials = credentials(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    );
    let request = SigningRequest::new("PUT", "bj.bcebos.com", "/v1/test/myfolder/readme.txt")
        .query("partNumber", "9")
        .query("uploadId", "a44cc9bab11cbd156984767aad637851")
        .header("Date", "Mon, 27 Apr 2015 16:23:49 +0800")
        .header("Content-Type", "text/plain")
        .header("Content-Length", "8")
        .header("Content-Md5", "NFzcPqhviddjRNnSOGo4rw==");
    let time = SigningTime::from_unix_seconds(1_430_123_029)?; // 2015-04-27T08:23:49Z
    let signed = baiducloud::sign(&request, &credentials, time, 1800)?;
    assert_eq!(
        signed.auth_string_prefix,
        "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800"
    );
    assert_eq!(
        signed.signing_key.expose_secret(),
        "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479"
    );
    assert_eq!(
        signed.canonical.request,
        "PUT
/v1/test/myfolder/readme.txt
partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851
content-length:8
content-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D
content-type:text%2Fplain
host:bj.bcebos.com
x-bce-date:2015-04-27T08%3A23%3A49Z"
    );
    assert_eq!(
        signed.signature,
        "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
    );
    assert_eq!(
        signed.headers["authorization"],
        "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/content-length;content-md5;content-type;host;x-bce-date/d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
    );
    assert!(signed.headers["authorization"].is_sensitive());
    assert_eq!(signed.headers["x-bce-date"], "2015-04-27T08:23:49Z");
    // The page's own Authorization, with the default (empty) signed-header list.
    assert_eq!(
        baiducloud::authorization(&signed.auth_string_prefix, "", &signed.signature),
        "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800//d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
    );
    Ok(())
}

/// §3, the page's CanonicalQueryString and CanonicalURI examples: the encoded `key=value`
/// strings are sorted (`text10=` before `text1=`), a missing value is `key=`.
#[test]
fn documented_canonical_query_and_uri_examples() {
    assert_eq!(
        baiducloud::canonical_query_string(&[("text", ""), ("text1", "测试"), ("text10", "test")]),
        "text10=test&text1=%E6%B5%8B%E8%AF%95&text="
    );
    assert_eq!(
        baiducloud::canonical_uri("/example/测试"),
        "/example/%E6%B5%8B%E8%AF%95"
    );
    // `authorization` never enters the query's canonical form.
    assert_eq!(
        baiducloud::canonical_query_string(&[("authorization", "x"), ("a", "1")]),
        "a=1"
    );
}

/// §4, `baidubce/bce-sdk-js` `test/sdk/auth.spec.js` `generateAuthorization`: the headers
/// signed are those the scheme signs by default (`abc` and `User-Agent` are not).
#[test]
fn js_sdk_generate_authorization() -> Result<(), SigningError> {
    let credentials = credentials("my_ak", "my_sk");
    let time = SigningTime::from_unix_seconds(1_402_639_056)?; // 2014-06-13T05:57:36Z
    let prefix = baiducloud::auth_string_prefix(&credentials, time, 1800);
    assert_eq!(prefix, "bce-auth-v1/my_ak/2014-06-13T05:57:36Z/1800");
    let signing_key = baiducloud::signing_key(&credentials, &prefix);
    assert_eq!(
        signing_key.expose_secret(),
        "b358d27f22640783b887965f17e6cf57ce5b44e3e44ed171a934df6daff52a7c"
    );

    let put_headers = [
        ("Host", "bce.baidu.com"),
        ("abc", "123"),
        ("x-bce-meta-key1", "ABC"),
    ];
    let put = baiducloud::canonical_request(&CanonicalParts {
        method: "PUT",
        path: "/v1/bucket/object1",
        query: &[("A", ""), ("b", ""), ("C", "d")],
        headers: &signed_by_default(&put_headers),
        payload_hash: "",
    })?;
    assert_eq!(
        put.request,
        "PUT\n/v1/bucket/object1\nA=&C=d&b=\nhost:bce.baidu.com\nx-bce-meta-key1:ABC"
    );
    let signature = baiducloud::signature(&signing_key, &put.request);
    assert_eq!(
        baiducloud::authorization(&prefix, &put.signed_headers, &signature),
        "bce-auth-v1/my_ak/2014-06-13T05:57:36Z/1800/host;x-bce-meta-key1/80c9672aca2ea9af4bb40b9a8ff458d72df94e97d550840727f3a929af271d25"
    );

    let delete_headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", "0"),
        ("User-Agent", "This is the user-agent"),
    ];
    let delete = baiducloud::canonical_request(&CanonicalParts {
        method: "DELETE",
        path: "/v1/test-bucket1361199862",
        query: &[],
        headers: &signed_by_default(&delete_headers),
        payload_hash: "",
    })?;
    assert_eq!(
        delete.request,
        "DELETE\n/v1/test-bucket1361199862\n\ncontent-length:0\ncontent-type:application%2Fjson%3B%20charset%3Dutf-8"
    );
    let signature = baiducloud::signature(&signing_key, &delete.request);
    assert_eq!(
        baiducloud::authorization(&prefix, &delete.signed_headers, &signature),
        "bce-auth-v1/my_ak/2014-06-13T05:57:36Z/1800/content-length;content-type/c9386b15d585960ae5e6972f73ed92a9a682dc81025480ba5b41206d3e489822"
    );
    Ok(())
}

/// §4, the same file's canonicalization cases.
#[test]
fn js_sdk_canonicalization_cases() -> Result<(), SigningError> {
    assert_eq!(
        baiducloud::canonical_query_string(&[("A", "A"), ("B", ""), ("C", "")]),
        "A=A&B=&C="
    );
    assert_eq!(
        baiducloud::uri_encode("!'()*this is an example for 测试"),
        "%21%27%28%29%2Athis%20is%20an%20example%20for%20%E6%B5%8B%E8%AF%95"
    );
    let headers = [("Host", "localhost"), ("x-bce-a", "a/b:c"), ("C", "")];
    let selected = signed_by_default(&headers);
    let names: Vec<&str> = selected.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["Host", "x-bce-a"]);
    let mut with_md5 = headers.to_vec();
    with_md5.push(("Content-MD5", "MD5"));
    let (canonical, signed) = baiducloud::canonical_headers(&signed_by_default(&with_md5))?;
    assert_eq!(
        canonical,
        "content-md5:MD5\nhost:localhost\nx-bce-a:a%2Fb%3Ac"
    );
    assert_eq!(signed, "content-md5;host;x-bce-a");
    Ok(())
}

/// The headers of `headers` the scheme signs by default.
fn signed_by_default<'a>(headers: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    headers
        .iter()
        .copied()
        .filter(|(name, _)| baiducloud::is_signed_by_default(&name.to_ascii_lowercase()))
        .collect()
}

/// The balance call as the facade sends it: the signer never signs an empty header and
/// replaces an old `x-bce-date`.
#[test]
fn balance_request_skips_empty_headers_and_replaces_old_date() -> Result<(), SigningError> {
    let credentials = credentials("ak", "sk");
    let request = SigningRequest::new("POST", "billing.baidubce.com", "/v1/finance/cash/balance")
        .header("Content-Type", "application/json; charset=utf-8")
        .header("x-bce-empty", " ")
        .header("x-bce-date", "2001-01-01T00:00:00Z")
        .body("{}");
    let time = SigningTime::from_unix_seconds(1_430_123_029)?;
    let signed = baiducloud::sign(
        &request,
        &credentials,
        time,
        baiducloud::DEFAULT_EXPIRATION_SECONDS,
    )?;
    assert_eq!(
        signed.canonical.signed_headers,
        "content-type;host;x-bce-date"
    );
    assert!(
        signed
            .canonical
            .request
            .ends_with("x-bce-date:2015-04-27T08%3A23%3A49Z")
    );
    Ok(())
}
