//! `hearth owner identity`: the owner's age identity, re-derived from the wallet.

use std::path::Path;

use hearth_crypto::{ExposeSecret, OWNER_KEY_MESSAGE};

use crate::error::CliError;
use crate::node::Node;

/// Prints the owner's age identity in the `age-keygen` file format.
pub fn identity(data_dir: &Path) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let owner = node.owner_wallet()?;
    let signature = owner.sign_message(OWNER_KEY_MESSAGE.as_bytes())?;
    let identity = hearth_crypto::owner_identity_from_signature(&signature)?;
    let recipient = identity.to_public().to_string();
    if recipient != node.owner().recipient {
        return Err(CliError::Missing(format!(
            "the wallet derives recipient {recipient}, but files here are encrypted to {}",
            node.owner().recipient
        )));
    }
    println!("# hearth owner identity of {}", owner.address());
    println!("# public key: {recipient}");
    println!("{}", hearth_crypto::identity_to_string(&identity).expose_secret());
    Ok(())
}
