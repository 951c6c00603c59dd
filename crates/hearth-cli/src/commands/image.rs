//! `hearth image import|ls`: the image store under `<data-dir>/images`.

use std::path::Path;

use hearth_sandbox::images::{ImageInfo, ImageStore, format_digest};
use serde::Serialize;

use crate::error::CliError;

/// The image store's directory inside the data directory.
pub use hearth_server::jobs::IMAGES_DIR;

fn store(data_dir: &Path) -> Result<ImageStore, CliError> {
    ImageStore::open(&data_dir.join(IMAGES_DIR)).map_err(|e| CliError::Missing(e.to_string()))
}

#[derive(Serialize)]
struct Listed {
    digest: String,
    tags: Vec<String>,
    entrypoint: Vec<String>,
    size_bytes: u64,
    imported_at: u64,
}

impl From<&ImageInfo> for Listed {
    fn from(i: &ImageInfo) -> Self {
        Listed {
            digest: format_digest(&i.digest),
            tags: i.repo_tags.clone(),
            entrypoint: i.entrypoint.clone(),
            size_bytes: i.size_bytes,
            imported_at: i.imported_at,
        }
    }
}

/// `hearth image import`.
pub fn import(data_dir: &Path, path: &Path) -> Result<(), CliError> {
    let info =
        store(data_dir)?.import(path).map_err(|e| CliError::Input { path: path.to_owned(), reason: e.to_string() })?;
    println!("imported {} ({} bytes)", format_digest(&info.digest), info.size_bytes);
    Ok(())
}

/// `hearth image ls`.
pub fn ls(data_dir: &Path, json: bool) -> Result<(), CliError> {
    let images = store(data_dir)?.list().map_err(|e| CliError::Missing(e.to_string()))?;
    if json {
        let listed: Vec<Listed> = images.iter().map(Listed::from).collect();
        println!("{}", serde_json::to_string_pretty(&listed).map_err(|e| CliError::Missing(e.to_string()))?);
        return Ok(());
    }
    println!("{:<71}  {:>12}  TAGS", "DIGEST", "BYTES");
    for i in &images {
        println!("{:<71}  {:>12}  {}", format_digest(&i.digest), i.size_bytes, i.repo_tags.join(","));
    }
    Ok(())
}
