//! The layers of the TensorFlow 2015-12-05 Inception-v3 graph as NVIDIA ported
//! it (`layers` of `default_1.pt`): conv + batch norm (folded into the conv at
//! load time) + ReLU, max/avg pooling, and the mixed blocks, whose branches are
//! concatenated along channels. Module names follow the TorchScript file.

use super::archive::TorchArchive;
use super::error::InceptionError;
use super::pickle::{Object, Value};
use tcgan_core::{Conv2dSpec, Device, Pool2dSpec, PoolKind, Tensor};

/// Batch-norm epsilon of every `Conv2dLayer` (TensorFlow's 0.001).
const BN_EPS: f64 = 0.001;

/// One step of the network.
pub enum Layer {
    /// `relu(conv(x, w * s) + (beta - mean * s))` with `s = 1/sqrt(var + eps)`:
    /// the inference batch norm (no gamma) folded into the convolution.
    Conv {
        name: String,
        weight: Tensor,
        /// `[1, out, 1, 1]`.
        bias: Tensor,
        spec: Conv2dSpec,
    },
    Pool(Pool2dSpec),
    /// Branches that all read the same input; their outputs are concatenated
    /// along channels in order.
    Fork(Vec<Vec<Layer>>),
}

impl Layer {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, InceptionError> {
        Ok(match self {
            Layer::Conv {
                weight, bias, spec, ..
            } => x.conv2d_spec(weight, spec)?.add(bias)?.relu()?,
            Layer::Pool(spec) => x.pool2d(spec)?,
            Layer::Fork(branches) => {
                let outs = branches
                    .iter()
                    .map(|b| run(b, x))
                    .collect::<Result<Vec<_>, _>>()?;
                let refs: Vec<&Tensor> = outs.iter().collect();
                Tensor::concat(&refs, 1)?
            }
        })
    }

    /// Convolution layers, for counting and tests.
    pub fn convs(&self) -> usize {
        match self {
            Layer::Conv { .. } => 1,
            Layer::Pool(_) => 0,
            Layer::Fork(b) => b.iter().flatten().map(Layer::convs).sum(),
        }
    }
}

pub fn run(layers: &[Layer], x: &Tensor) -> Result<Tensor, InceptionError> {
    let mut x = x.clone();
    for l in layers {
        x = l.forward(&x)?;
    }
    Ok(x)
}

fn pool(kind: PoolKind, k: usize, s: usize, p: usize) -> Pool2dSpec {
    Pool2dSpec {
        kind,
        kernel: [k; 2],
        stride: [s; 2],
        padding: [p; 2],
    }
}

/// `pool0`, `pool1`, and the pools of InceptionB/D.
fn max_3x3_s2() -> Layer {
    Layer::Pool(pool(PoolKind::Max, 3, 2, 0))
}

/// The branch pools of InceptionA/C and mixed_9.
fn avg_3x3_same() -> Layer {
    Layer::Pool(pool(
        PoolKind::Avg {
            count_include_pad: false,
        },
        3,
        1,
        1,
    ))
}

/// Walks the module tree and folds the weights.
struct Loader<'a> {
    archive: &'a mut TorchArchive,
    device: &'a Device,
}

impl Loader<'_> {
    fn err(&self, msg: impl Into<String>) -> InceptionError {
        InceptionError::Format {
            path: self.archive.path().to_path_buf(),
            msg: msg.into(),
        }
    }

    fn child<'o>(
        &self,
        o: &'o Object,
        path: &str,
        name: &str,
    ) -> Result<&'o Object, InceptionError> {
        match o.get(name) {
            Some(Value::Object(c)) => Ok(c),
            _ => Err(self.err(format!("module {path} has no submodule `{name}`"))),
        }
    }

    /// The submodule at a dotted path below `o`.
    fn at<'o>(&self, o: &'o Object, path: &str, rel: &str) -> Result<&'o Object, InceptionError> {
        let mut cur = o;
        let mut p = path.to_string();
        for part in rel.split('.') {
            cur = self.child(cur, &p, part)?;
            p = format!("{p}.{part}");
        }
        Ok(cur)
    }

    fn expect_class(&self, o: &Object, path: &str, class: &str) -> Result<(), InceptionError> {
        if o.class_name() != class {
            return Err(self.err(format!(
                "module {path} is a {}, expected a {class}",
                o.class
            )));
        }
        Ok(())
    }

    fn int(&self, v: Option<&Value>, what: &str) -> Result<usize, InceptionError> {
        match v {
            Some(Value::Int(i)) if *i >= 0 => Ok(*i as usize),
            _ => Err(self.err(format!("{what} is not a non-negative int"))),
        }
    }

    fn tensor(
        &mut self,
        o: &Object,
        path: &str,
        name: &str,
        shape: Option<&[usize]>,
    ) -> Result<super::archive::HostTensor, InceptionError> {
        let Some(Value::Tensor(t)) = o.get(name) else {
            return Err(self.err(format!("module {path} has no tensor `{name}`")));
        };
        let t = self.archive.tensor(t)?;
        if let Some(s) = shape {
            if t.shape != s {
                return Err(self.err(format!(
                    "{path}.{name} has shape {:?}, expected {s:?}",
                    t.shape
                )));
            }
        }
        Ok(t)
    }

    /// A `Conv2dLayer` with its batch norm folded in.
    fn conv(&mut self, parent: &Object, path: &str, rel: &str) -> Result<Layer, InceptionError> {
        let o = self.at(parent, path, rel)?;
        let path = format!("{path}.{rel}");
        self.expect_class(o, &path, "Conv2dLayer")?;
        let w = self.tensor(o, &path, "weight", None)?;
        if w.shape.len() != 4 {
            return Err(self.err(format!("{path}.weight is not 4-D: {:?}", w.shape)));
        }
        let out = w.shape[0];
        let beta = self.tensor(o, &path, "beta", Some(&[out]))?;
        let mean = self.tensor(o, &path, "mean", Some(&[out]))?;
        let var = self.tensor(o, &path, "var", Some(&[out]))?;
        let stride = self.int(o.get("stride"), &format!("{path}.stride"))?;
        let padding = match o.get("padding") {
            Some(Value::List(l)) if l.len() == 2 => [
                self.int(l.first(), &format!("{path}.padding"))?,
                self.int(l.get(1), &format!("{path}.padding"))?,
            ],
            v => [self.int(v, &format!("{path}.padding"))?; 2],
        };
        if stride == 0 {
            return Err(self.err(format!("{path}.stride is 0")));
        }
        let per_out = w.data.len() / out.max(1);
        let mut wf = Vec::with_capacity(w.data.len());
        let mut bf = Vec::with_capacity(out);
        for o_ in 0..out {
            let var = var.data[o_] as f64;
            if (var + BN_EPS).is_nan() || var + BN_EPS <= 0.0 {
                return Err(self.err(format!("{path}.var[{o_}] = {var} is not a variance")));
            }
            let s = 1.0 / (var + BN_EPS).sqrt();
            bf.push((beta.data[o_] as f64 - mean.data[o_] as f64 * s) as f32);
            wf.extend(
                w.data[o_ * per_out..(o_ + 1) * per_out]
                    .iter()
                    .map(|&v| (v as f64 * s) as f32),
            );
        }
        Ok(Layer::Conv {
            name: path,
            weight: Tensor::from_vec(wf, w.shape.clone(), self.device)?,
            bias: Tensor::from_vec(bf, [1, out, 1, 1], self.device)?,
            spec: Conv2dSpec {
                stride: [stride; 2],
                padding,
                groups: 1,
            },
        })
    }

    fn convs(
        &mut self,
        parent: &Object,
        path: &str,
        rels: &[&str],
    ) -> Result<Vec<Layer>, InceptionError> {
        rels.iter().map(|r| self.conv(parent, path, r)).collect()
    }

    fn pool_of(
        &self,
        parent: &Object,
        path: &str,
        rel: &str,
        class: &str,
        layer: Layer,
    ) -> Result<Layer, InceptionError> {
        let o = self.at(parent, path, rel)?;
        self.expect_class(o, &format!("{path}.{rel}"), class)?;
        Ok(layer)
    }

    fn mixed(&mut self, layers: &Object, name: &str) -> Result<Layer, InceptionError> {
        let m = self.child(layers, "net.layers", name)?;
        let p = format!("net.layers.{name}");
        let class = m.class_name().to_string();
        let branches = match class.as_str() {
            "InceptionA" => vec![
                vec![self.conv(m, &p, "conv")?],
                self.convs(m, &p, &["tower.conv", "tower.conv_1"])?,
                self.convs(m, &p, &["tower_1.conv", "tower_1.conv_1", "tower_1.conv_2"])?,
                vec![
                    self.pool_of(m, &p, "tower_2.pool", "AvgPool2d", avg_3x3_same())?,
                    self.conv(m, &p, "tower_2.conv")?,
                ],
            ],
            "InceptionB" => vec![
                vec![self.conv(m, &p, "conv")?],
                self.convs(m, &p, &["tower.conv", "tower.conv_1", "tower.conv_2"])?,
                vec![self.pool_of(m, &p, "pool", "MaxPool2d", max_3x3_s2())?],
            ],
            "InceptionC" => vec![
                vec![self.conv(m, &p, "conv")?],
                self.convs(m, &p, &["tower.conv", "tower.conv_1", "tower.conv_2"])?,
                self.convs(
                    m,
                    &p,
                    &[
                        "tower_1.conv",
                        "tower_1.conv_1",
                        "tower_1.conv_2",
                        "tower_1.conv_3",
                        "tower_1.conv_4",
                    ],
                )?,
                vec![
                    self.pool_of(m, &p, "tower_2.pool", "AvgPool2d", avg_3x3_same())?,
                    self.conv(m, &p, "tower_2.conv")?,
                ],
            ],
            "InceptionD" => vec![
                self.convs(m, &p, &["tower.conv", "tower.conv_1"])?,
                self.convs(
                    m,
                    &p,
                    &[
                        "tower_1.conv",
                        "tower_1.conv_1",
                        "tower_1.conv_2",
                        "tower_1.conv_3",
                    ],
                )?,
                vec![self.pool_of(m, &p, "pool", "MaxPool2d", max_3x3_s2())?],
            ],
            "InceptionE" => {
                // mixed_9 averages in its pool branch, mixed_10 takes the max
                // (the TensorFlow graph's quirk); the class in the file decides.
                let pool_obj = self.child(m, &p, "tower_2_pool")?;
                let pool = match pool_obj.class_name() {
                    "AvgPool2d" => avg_3x3_same(),
                    "MaxPool2d" => Layer::Pool(pool(PoolKind::Max, 3, 1, 1)),
                    other => {
                        return Err(self.err(format!(
                            "{p}.tower_2_pool is a {other}, expected a pooling module"
                        )))
                    }
                };
                vec![
                    vec![self.conv(m, &p, "conv")?],
                    vec![
                        self.conv(m, &p, "tower_conv")?,
                        Layer::Fork(vec![
                            vec![self.conv(m, &p, "tower_mixed_conv")?],
                            vec![self.conv(m, &p, "tower_mixed_conv_1")?],
                        ]),
                    ],
                    vec![
                        self.conv(m, &p, "tower_1_conv")?,
                        self.conv(m, &p, "tower_1_conv_1")?,
                        Layer::Fork(vec![
                            vec![self.conv(m, &p, "tower_1_mixed_conv")?],
                            vec![self.conv(m, &p, "tower_1_mixed_conv_1")?],
                        ]),
                    ],
                    vec![pool, self.conv(m, &p, "tower_2_conv")?],
                ]
            }
            other => {
                return Err(self.err(format!(
                    "module {p} is a {other}, expected an Inception block"
                )))
            }
        };
        Ok(Layer::Fork(branches))
    }
}

/// Builds the `layers` of `net` (`WrapNet.net`, an `InceptionV3`) from an archive.
pub fn load_layers(
    archive: &mut TorchArchive,
    device: &Device,
) -> Result<Vec<Layer>, InceptionError> {
    let root = archive.root()?;
    let mut loader = Loader { archive, device };
    let Value::Object(root) = &root else {
        return Err(loader.err("data.pkl does not hold a module"));
    };
    loader.expect_class(root, "<root>", "WrapNet")?;
    let net = loader.child(root, "<root>", "net")?;
    loader.expect_class(net, "net", "InceptionV3")?;
    let layers = loader.child(net, "net", "layers")?;
    loader.expect_class(layers, "net.layers", "Sequential")?;

    let mut out = Vec::new();
    for name in ["conv", "conv_1", "conv_2"] {
        out.push(loader.conv(layers, "net.layers", name)?);
    }
    out.push(loader.pool_of(layers, "net.layers", "pool0", "MaxPool2d", max_3x3_s2())?);
    for name in ["conv_3", "conv_4"] {
        out.push(loader.conv(layers, "net.layers", name)?);
    }
    out.push(loader.pool_of(layers, "net.layers", "pool1", "MaxPool2d", max_3x3_s2())?);
    for name in [
        "mixed", "mixed_1", "mixed_2", "mixed_3", "mixed_4", "mixed_5", "mixed_6", "mixed_7",
        "mixed_8", "mixed_9", "mixed_10",
    ] {
        out.push(loader.mixed(layers, name)?);
    }
    out.push(loader.pool_of(
        layers,
        "net.layers",
        "pool2",
        "AvgPool2d",
        Layer::Pool(pool(
            PoolKind::Avg {
                count_include_pad: true,
            },
            8,
            8,
            0,
        )),
    )?);
    Ok(out)
}
