//! `res k8s job FILE --shards N --image IMAGE`: prints the Kubernetes manifests that run a
//! scenario as N shards (docs/distributed.md), as one JSON `List` that `kubectl apply -f -`
//! takes.
//!
//! Built from the Kubernetes API types of `k8s-openapi`, not from text templates: a
//! ConfigMap with the scenario file and the files it reads (imports, data, logs), a
//! PersistentVolumeClaim shared by the shards (the start barrier and the shards' reports),
//! and an Indexed Job (completions = parallelism = N) whose completion index becomes
//! `--shard I/N`. Shard 1 is the coordinator: it injects the faults and runs the remedies,
//! and once its own share is done it collects the other shards' reports from the shared
//! volume and runs `res merge`, which writes `run.json` and records the run there.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMap, ConfigMapVolumeSource, Container, EnvVar, EnvVarSource, KeyToPath,
    ObjectFieldSelector, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodAffinityTerm, PodAntiAffinity, PodSpec, PodTemplateSpec,
    Volume, VolumeMount, VolumeResourceRequirements, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::exit::Exit;

/// `res k8s` subcommands.
#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Print the manifests that run FILE as N shards: a ConfigMap, a shared volume claim and
    /// an Indexed Job whose shard 1 coordinates and merges.
    Job(JobArgs),
}

/// `res k8s job` flags.
#[derive(Debug, Args)]
pub struct JobArgs {
    file: PathBuf,
    /// How many shards (pods) share the load.
    #[arg(long, value_name = "N")]
    shards: u32,
    /// The container image with `res` in it (docs/Dockerfile).
    #[arg(long)]
    image: String,
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// The scenario to run (default: the file's only one).
    #[arg(long)]
    scenario: Option<String>,
    /// The seed every shard shares (default: chosen now, and printed in the manifests).
    #[arg(long)]
    seed: Option<u64>,
    /// Name of the objects (default: res-<scenario>).
    #[arg(long)]
    name: Option<String>,
    /// Storage class of the shared volume (it needs ReadWriteMany).
    #[arg(long, value_name = "CLASS")]
    storage_class: Option<String>,
    /// Override a param: --set name=value (repeatable), passed to every shard.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = super::parse_override)]
    set: Vec<(String, String)>,
}

pub fn run(cmd: K8sCommand) -> ExitCode {
    match cmd {
        K8sCommand::Job(args) => match manifests(&args) {
            Ok(list) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Err(e) => super::fail(Exit::Invalid, e).into(),
        },
    }
}

/// Where the ConfigMap is mounted, and the shared volume.
const SCENARIO_DIR: &str = "/scenario";
const RESULTS_DIR: &str = "/results";

/// The List of manifests for `args`.
fn manifests(args: &JobArgs) -> Result<serde_json::Value, String> {
    if args.shards == 0 {
        return Err("--shards must be at least 1".into());
    }
    let checked = crate::check::check_path_with(&args.file, &super::options(&args.set));
    let Some(model) = &checked.model else {
        return Err(format!(
            "{} does not check: run `res check {}`",
            args.file.display(),
            args.file.display()
        ));
    };
    let plan = crate::plan::plan_checked(&checked, args.scenario.as_deref())
        .map_err(|_| format!("{} does not plan: run `res plan`", args.file.display()))?;
    let base = args.file.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut files: Vec<PathBuf> = vec![args.file.clone()];
    for i in 0..checked.sources.len() {
        let p = PathBuf::from(&checked.sources.get(i).name);
        if p.is_file() && !files.contains(&p) {
            files.push(p);
        }
    }
    let read: Vec<String> = model
        .data
        .iter()
        .map(|d| d.path.clone())
        .chain(
            model
                .traffics
                .iter()
                .filter_map(|t| t.learn.as_ref().map(|l| l.path.clone())),
        )
        .collect();
    for p in read {
        let p = base.join(p);
        if !files.contains(&p) {
            files.push(p);
        }
    }
    let mut data = BTreeMap::new();
    let mut items = Vec::new();
    for f in &files {
        let rel = relative(f, &base)?;
        let key = rel.replace('/', "__");
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read {} for the ConfigMap: {e}", f.display()))?;
        data.insert(key.clone(), text);
        items.push(KeyToPath {
            key,
            path: rel,
            ..Default::default()
        });
    }
    let size: usize = data.values().map(String::len).sum();
    if size > 900 * 1024 {
        return Err(format!(
            "the scenario's files are {} KiB: a ConfigMap holds at most 1 MiB; put large data in the image",
            size / 1024
        ));
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("res-{}", plan.scenario))
        .to_lowercase()
        .replace(['_', '.'], "-");
    // Object names and label values: DNS labels, with room for the longest suffix.
    let name: String = name.chars().take(48).collect();
    let name = name.trim_end_matches('-').to_string();
    let seed = args.seed.unwrap_or_else(crate::run::clock::fresh_seed);
    let file = relative(&args.file, &base)?;
    let meta = |suffix: &str| ObjectMeta {
        name: Some(format!("{name}{suffix}")),
        namespace: args.namespace.clone(),
        labels: Some(labels(&name)),
        ..Default::default()
    };
    let config = ConfigMap {
        metadata: meta("-scenario"),
        data: Some(data),
        ..Default::default()
    };
    let claim = PersistentVolumeClaim {
        metadata: meta("-results"),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteMany".into()]),
            storage_class_name: args.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".into(), Quantity("1Gi".into()))])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    // The coordinator waits for the other shards' reports this long after its own run.
    let wait = 120 + plan.total.secs().ceil() as i64 / 2;
    let script = script(args, &file, seed, &name, wait);
    let n = i32::try_from(args.shards).map_err(|_| "--shards is too large".to_string())?;
    let job = Job {
        metadata: meta("-shards"),
        spec: Some(JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(n),
            parallelism: Some(n),
            // A shard run again would send its share twice: a failed shard stays failed, and
            // the merge reports it missing.
            backoff_limit: Some(0),
            active_deadline_seconds: Some(plan.total.secs().ceil() as i64 + wait + 900),
            template: pod(&name, &args.image, script, items),
            ..Default::default()
        }),
        ..Default::default()
    };
    let items = [
        serde_json::to_value(&config),
        serde_json::to_value(&claim),
        serde_json::to_value(&job),
    ]
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| e.to_string())?;
    Ok(serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items }))
}

fn labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), "res".into()),
        ("res.dev/run".into(), name.to_string()),
    ])
}

/// `path` relative to the scenario's folder, with `/`; a file outside it is refused.
fn relative(path: &Path, base: &Path) -> Result<String, String> {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => {
                return Err(format!(
                "{} is outside the scenario's folder: the ConfigMap holds the folder's files only",
                path.display()
            ))
            }
        }
    }
    Ok(parts.join("/"))
}

/// What each pod runs: its shard, and on shard 1 the collection and the merge.
fn script(args: &JobArgs, file: &str, seed: u64, name: &str, wait: i64) -> String {
    let n = args.shards;
    // One folder per Job instance (its uid): a Job applied again never reads an old start.
    let out = format!("{RESULTS_DIR}/{name}/$RUN_ID");
    let mut run = format!(
        "res run {SCENARIO_DIR}/{file} --seed {seed} --shard $I/{n} --sync {out}/sync --quiet --report json={out}/.shard-$I.json"
    );
    if let Some(s) = &args.scenario {
        run += &format!(" --scenario {}", quoted(s));
    }
    for (k, v) in &args.set {
        run += &format!(" --set {}", quoted(&format!("{k}={v}")));
    }
    format!(
        "set -u\n\
         I=$((JOB_COMPLETION_INDEX + 1))\n\
         mkdir -p {out}\n\
         code=0\n\
         {run} || code=$?\n\
         mv {out}/.shard-$I.json {out}/shard-$I.json || true\n\
         if [ \"$I\" = 1 ]; then\n\
         \x20 end=$(( $(date +%s) + {wait} ))\n\
         \x20 while [ \"$(ls {out}/shard-*.json 2>/dev/null | wc -l)\" -lt {n} ] && [ \"$(date +%s)\" -lt \"$end\" ]; do sleep 2; done\n\
         \x20 exec res merge {out}/shard-*.json -o {out}/run.json --file {SCENARIO_DIR}/{file} --profile-db {RESULTS_DIR}/profile.redb\n\
         fi\n\
         exit $code\n"
    )
}

/// `s` as one shell word, in single quotes.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn pod(name: &str, image: &str, script: String, items: Vec<KeyToPath>) -> PodTemplateSpec {
    let selector = LabelSelector {
        match_labels: Some(BTreeMap::from([("res.dev/run".into(), name.to_string())])),
        ..Default::default()
    };
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(name)),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            // Shards spread over nodes: one machine's limit is why the load is split.
            affinity: Some(Affinity {
                pod_anti_affinity: Some(PodAntiAffinity {
                    preferred_during_scheduling_ignored_during_execution: Some(vec![
                        WeightedPodAffinityTerm {
                            weight: 100,
                            pod_affinity_term: PodAffinityTerm {
                                label_selector: Some(selector),
                                topology_key: "kubernetes.io/hostname".into(),
                                ..Default::default()
                            },
                        },
                    ]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            containers: vec![Container {
                name: "res".into(),
                image: Some(image.into()),
                command: Some(vec!["/bin/sh".into(), "-c".into(), script]),
                working_dir: Some(SCENARIO_DIR.into()),
                env: Some(vec![
                    EnvVar {
                        name: "RES_STATE_DIR".into(),
                        value: Some("/tmp/res-state".into()),
                        ..Default::default()
                    },
                    EnvVar {
                        name: "RUN_ID".into(),
                        value_from: Some(EnvVarSource {
                            field_ref: Some(ObjectFieldSelector {
                                field_path: "metadata.labels['batch.kubernetes.io/controller-uid']"
                                    .into(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                ]),
                volume_mounts: Some(vec![
                    VolumeMount {
                        name: "scenario".into(),
                        mount_path: SCENARIO_DIR.into(),
                        read_only: Some(true),
                        ..Default::default()
                    },
                    VolumeMount {
                        name: "results".into(),
                        mount_path: RESULTS_DIR.into(),
                        ..Default::default()
                    },
                ]),
                ..Default::default()
            }],
            volumes: Some(vec![
                Volume {
                    name: "scenario".into(),
                    config_map: Some(ConfigMapVolumeSource {
                        name: format!("{name}-scenario"),
                        items: Some(items),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                Volume {
                    name: "results".into(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: format!("{name}-results"),
                        read_only: None,
                    }),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }),
    }
}
