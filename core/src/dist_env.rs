//! Where a process stands in a multi-process run, from torchrun-style
//! environment variables: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
//! MASTER_ADDR, MASTER_PORT. Absent WORLD_SIZE means a single process (which
//! may still drive several GPUs as threads).

/// A missing or malformed variable, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("distributed launch: {0}")]
pub struct DistEnvError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistEnv {
    /// This process's rank among all processes.
    pub rank: usize,
    pub world_size: usize,
    /// This process's rank on its machine: the GPU it drives.
    pub local_rank: usize,
    pub local_world_size: usize,
    /// Where rank 0 listens for the rendezvous.
    pub master_addr: String,
    pub master_port: u16,
}

impl DistEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<Option<DistEnv>, DistEnvError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads the variables through `get` (tests pass a map).
    pub fn from_vars(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<DistEnv>, DistEnvError> {
        let Some(world) = get("WORLD_SIZE") else {
            return Ok(None);
        };
        let num = |k: &str, v: Option<String>| -> Result<usize, DistEnvError> {
            let v = v.ok_or_else(|| DistEnvError(format!("WORLD_SIZE is set but {k} is not")))?;
            v.trim()
                .parse()
                .map_err(|_| DistEnvError(format!("{k}={v:?} is not a non-negative integer")))
        };
        let world_size = num("WORLD_SIZE", Some(world))?;
        if world_size == 0 {
            return Err(DistEnvError("WORLD_SIZE must be at least 1".into()));
        }
        let rank = num("RANK", get("RANK"))?;
        if rank >= world_size {
            return Err(DistEnvError(format!(
                "RANK={rank} is not below WORLD_SIZE={world_size}"
            )));
        }
        // Single-machine defaults, as torchrun sets them.
        let local_rank = match get("LOCAL_RANK") {
            Some(v) => num("LOCAL_RANK", Some(v))?,
            None => rank,
        };
        let local_world_size = match get("LOCAL_WORLD_SIZE") {
            Some(v) => num("LOCAL_WORLD_SIZE", Some(v))?,
            None => world_size,
        };
        if local_rank >= local_world_size {
            return Err(DistEnvError(format!(
                "LOCAL_RANK={local_rank} is not below LOCAL_WORLD_SIZE={local_world_size}"
            )));
        }
        let master_addr = get("MASTER_ADDR").unwrap_or_else(|| "127.0.0.1".into());
        if master_addr.trim().is_empty() {
            return Err(DistEnvError("MASTER_ADDR is empty".into()));
        }
        let master_port = match get("MASTER_PORT") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| DistEnvError(format!("MASTER_PORT={v:?} is not a port number")))?,
            None => 29500,
        };
        Ok(Some(DistEnv {
            rank,
            world_size,
            local_rank,
            local_world_size,
            master_addr,
            master_port,
        }))
    }
}
