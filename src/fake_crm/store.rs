//! What the fake holds, and the JSON Lines ledger that outlives it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use serde_json::{json, Map, Value};

/// Ids start here so they look like the short hex ids the real API returns
/// instead of "0cb", "1cb".
const FIRST_ID_COUNTER: u64 = 0x1000;
const ID_SUFFIX: &str = "cb";

pub(super) struct StoredObligation {
    id: String,
    /// The `fields` object as JSON text: a million obligations held as
    /// `Value` trees would take gigabytes.
    fields: Box<str>,
}

/// What the fake holds. Every change goes through `commit`, which is also
/// what replay uses, so a restarted fake cannot disagree with the one that
/// wrote the ledger.
pub(super) struct Store {
    /// (record wolkvox_id, obligation id) -> every stored copy, oldest first.
    obligations: HashMap<(String, String), Vec<StoredObligation>>,
    /// Ledger entries as JSON text, in order.
    pub(super) entries: Vec<Box<str>>,
    next_id: u64,
    next_seq: u64,
    ledger: Option<File>,
}

impl Store {
    pub(super) fn open(path: Option<&Path>) -> io::Result<Store> {
        let mut store = Store {
            obligations: HashMap::new(),
            entries: Vec::new(),
            next_id: FIRST_ID_COUNTER,
            next_seq: 1,
            ledger: None,
        };
        let Some(path) = path else {
            return Ok(store);
        };
        match File::open(path) {
            Ok(file) => {
                for (n, line) in BufReader::new(file).lines().enumerate() {
                    let line = line?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let bad = |why: String| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("ledger {} line {}: {why}", path.display(), n + 1),
                        )
                    };
                    let entry: Value =
                        serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
                    store.apply(entry).map_err(bad)?;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        store.ledger = Some(OpenOptions::new().create(true).append(true).open(path)?);
        Ok(store)
    }

    pub(super) fn insert(&mut self, record: String, body: Value) -> io::Result<String> {
        let id = format!("{:x}{ID_SUFFIX}", self.next_id);
        self.commit("POST", record, id.clone(), body)?;
        Ok(id)
    }

    /// Every stored copy is updated, so queries stay consistent; the id
    /// answered is the oldest copy's.
    pub(super) fn update(
        &mut self,
        record: String,
        obligation: String,
        body: Value,
    ) -> io::Result<Option<String>> {
        let key = (record, obligation);
        let Some(id) = self
            .obligations
            .get(&key)
            .and_then(|copies| copies.first())
            .map(|copy| copy.id.clone())
        else {
            return Ok(None);
        };
        self.commit("PUT", key.0, id.clone(), body)?;
        Ok(Some(id))
    }

    pub(super) fn query(&self, record: &str, obligation: &str) -> Vec<Value> {
        let key = (record.to_string(), obligation.to_string());
        self.obligations
            .get(&key)
            .map(|copies| {
                copies
                    .iter()
                    .map(|copy| {
                        let mut fields: Map<String, Value> =
                            serde_json::from_str(&copy.fields).unwrap_or_default();
                        fields.insert("wolkvox_id".into(), Value::String(copy.id.clone()));
                        Value::Object(fields)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ledger first: if the line cannot be written the client gets an error
    /// and memory is untouched, so the ledger never misses a stored record.
    fn commit(&mut self, method: &str, record: String, id: String, body: Value) -> io::Result<()> {
        let obligation = body
            .get("fields")
            .and_then(|f| f.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let entry = json!({
            "seq": self.next_seq,
            "method": method,
            "wolkvox_id": record,
            "obligation": obligation,
            "obligation_wolkvox_id": id,
            "body": body,
        });
        if let Some(file) = self.ledger.as_mut() {
            let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
            line.push(b'\n');
            file.write_all(&line)?;
            file.flush()?;
        }
        self.apply(entry).map_err(io::Error::other)
    }

    fn apply(&mut self, entry: Value) -> Result<(), String> {
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("{key} missing or not a string"))
        };
        let method = text("method")?;
        let key = (text("wolkvox_id")?, text("obligation")?);
        let id = text("obligation_wolkvox_id")?;
        let fields = match entry.get("body").and_then(|b| b.get("fields")) {
            Some(Value::Object(fields)) => fields.clone(),
            _ => return Err("body.fields missing or not an object".into()),
        };
        match method.as_str() {
            "POST" => {
                // Ids from an earlier run must never be handed out again.
                if let Some(counter) = id
                    .strip_suffix(ID_SUFFIX)
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                {
                    self.next_id = self.next_id.max(counter + 1);
                }
                self.obligations
                    .entry(key)
                    .or_default()
                    .push(StoredObligation {
                        id,
                        fields: Value::Object(fields).to_string().into_boxed_str(),
                    });
            }
            "PUT" => {
                let copies = self
                    .obligations
                    .get_mut(&key)
                    .ok_or_else(|| format!("update of unknown obligation {}/{}", key.0, key.1))?;
                for copy in copies {
                    let mut merged: Map<String, Value> =
                        serde_json::from_str(&copy.fields).unwrap_or_default();
                    for (name, value) in &fields {
                        merged.insert(name.clone(), value.clone());
                    }
                    copy.fields = Value::Object(merged).to_string().into_boxed_str();
                }
            }
            other => return Err(format!("unknown method {other:?}")),
        }
        let seq = entry
            .get("seq")
            .and_then(Value::as_u64)
            .unwrap_or(self.next_seq);
        self.next_seq = self.next_seq.max(seq + 1);
        self.entries.push(entry.to_string().into_boxed_str());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_crm::api::INSERT_PATH;
    use crate::fake_crm::test_client::*;
    use crate::fake_crm::{FakeCrm, FakeCrmOptions};
    use tokio::net::TcpStream;

    #[tokio::test]
    async fn ledger_is_replayed_after_a_restart_on_the_same_port() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let opts = FakeCrmOptions {
            ledger: Some(path.clone()),
            ..Default::default()
        };
        let crm = start(opts.clone()).await;
        let addr = crm.local_addr();
        let a =
            insert(&crm, &obligation("rec1", "OB-1")).await.json()["data"]["wolkvox_id"].clone();
        let b =
            insert(&crm, &obligation("rec1", "OB-2")).await.json()["data"]["wolkvox_id"].clone();
        let change = json!({"operation": "op1", "wolkvox_id": "rec1", "fields": {"id": "OB-2", "name": "NEW"}});
        assert_eq!(
            call(&crm, "PUT", INSERT_PATH, Some(TOKEN), Some(&change))
                .await
                .status,
            200
        );
        let before = crm.ledger_entries();
        crm.shutdown().await;
        assert!(TcpStream::connect(addr).await.is_err(), "listener closed");

        let crm = FakeCrm::start(addr, opts).await.unwrap();
        assert_eq!(crm.local_addr(), addr);
        assert_eq!(crm.ledger_entries(), before);
        let found = query(&crm, "rec1", "OB-2").await.json();
        assert_eq!(found["data"][0]["name"], json!("NEW"));
        assert_eq!(found["data"][0]["wolkvox_id"], b);
        let c =
            insert(&crm, &obligation("rec1", "OB-3")).await.json()["data"]["wolkvox_id"].clone();
        assert_ne!(c, a);
        assert_ne!(c, b);
        let entries = crm.ledger_entries();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[3]["seq"], json!(4));
        assert_eq!(crm.stats().inserts, 1, "stats are per run");
        crm.shutdown().await;

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, entries);
    }

    #[tokio::test]
    async fn broken_ledger_is_reported_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        std::fs::write(&path, "{\"seq\": 1, \"method\": \"PUT\"}\n").unwrap();
        let opts = FakeCrmOptions {
            ledger: Some(path),
            ..Default::default()
        };
        let err = FakeCrm::start("127.0.0.1:0".parse().unwrap(), opts)
            .await
            .err()
            .expect("start must fail");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
