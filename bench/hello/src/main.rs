//! The smallest `lambda_http` function: answers every request with a fixed JSON body.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_req: Request| async {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::Text(r#"{"hello":"world"}"#.into()))
            .map_err(Error::from)
    }))
    .await
}
