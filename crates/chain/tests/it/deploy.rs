//! The deployer writes a deployment file that describes the live contracts.

use alloy::providers::Provider;
use tangible_chain::Deployment;
use tangible_chain::bindings::TestEuro;

use crate::fixture::chain;

#[tokio::test]
async fn deployment_file_describes_the_live_contracts() {
    let c = chain().await;
    let d = &c.deployment;
    assert_eq!(d.chain_id, c.provider.get_chain_id().await.unwrap());
    assert!(d.deployment_block >= 1);
    for addr in d.contracts.all() {
        let code = c.provider.get_code_at(addr).await.unwrap();
        assert!(!code.is_empty(), "no code at {addr}");
    }
    let token = TestEuro::new(d.contracts.stablecoin, &c.provider);
    assert_eq!(token.decimals().call().await.unwrap(), 6);
    assert_eq!(
        c.market().token().call().await.unwrap(),
        d.contracts.stablecoin
    );

    let dir = tempfile::tempdir().unwrap();
    let path = Deployment::file_in(dir.path(), d.chain_id);
    d.save(&path).unwrap();
    assert_eq!(&Deployment::load(&path).unwrap(), d);
}
