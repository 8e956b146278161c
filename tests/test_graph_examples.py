"""The graph examples in specs/examples/ against torch modules written by hand from the papers
(torchvision's layouts): parameter counts, output shapes, and the published ResNet-18 figures."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import archspec
from archspec.torchbuild.cnn_table import torch_dims

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"


def conv_bn(cin, cout, k, s=1, p=0):
    return [nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout)]


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride, 1), nn.ReLU(), *conv_bn(cout, cout, 3, 1, 1))
        self.short = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))


class ResNet(nn.Module):
    def __init__(self, widths, blocks, classes, cin=3, stem=(7, 2, 3), pool=True):
        super().__init__()
        k, s, p = stem
        layers = [*conv_bn(cin, widths[0], k, s, p), nn.ReLU()] + ([nn.MaxPool2d(3, 2, 1)] if pool else [])
        c = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(c, w, 2 if b == 0 and i > 0 else 1))
                c = w
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.features(x))


class MedicalResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(*conv_bn(1, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2), BasicBlock(16, 16, 1),
                                 BasicBlock(16, 32, 2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 8 * 32, 6))

    def forward(self, x):
        return self.net(x)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        relu = nn.ReLU
        self.b1 = nn.Sequential(nn.Conv2d(192, 64, 1), relu())
        self.b2 = nn.Sequential(nn.Conv2d(192, 96, 1), relu(), nn.Conv2d(96, 128, 3, padding=1), relu())
        self.b3 = nn.Sequential(nn.Conv2d(192, 16, 1), relu(), nn.Conv2d(16, 32, 5, padding=2), relu())
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(192, 32, 1), relu())

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class Dense(nn.Module):
    def __init__(self, cin=64, growth=32, n=4):
        super().__init__()
        self.layers = nn.ModuleList(nn.Sequential(
            nn.BatchNorm2d(cin + i * growth), nn.ReLU(), nn.Conv2d(cin + i * growth, 4 * growth, 1, bias=False),
            nn.BatchNorm2d(4 * growth), nn.ReLU(), nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False))
            for i in range(n))

    def forward(self, x):
        for layer in self.layers:
            x = torch.cat([x, layer(x)], 1)
        return x


class SE(nn.Module):
    def __init__(self, c=64, r=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, c // r), nn.ReLU(),
                                  nn.Linear(c // r, c), nn.Sigmoid())

    def forward(self, x):
        f = self.features(x)
        return f * self.gate(f)[:, :, None, None]


class UNet(nn.Module):
    def __init__(self):
        super().__init__()

        def two(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1),
                                 nn.ReLU())
        self.enc1, self.enc2, self.mid = two(1, 16), two(16, 32), two(32, 64)
        self.up2 = nn.ConvTranspose2d(64, 32, 2, 2)
        self.dec2 = two(64, 32)
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                 nn.Conv2d(32, 16, 3, padding=1))
        self.dec1 = two(32, 16)
        self.head = nn.Conv2d(16, 2, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(nn.functional.max_pool2d(e1, 2))
        m = self.mid(nn.functional.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        return self.head(self.dec1(torch.cat([self.up1(d2), e1], 1)))


CASES = {
    "resnet18.yaml": (lambda: ResNet([64, 128, 256, 512], [2, 2, 2, 2], 1000), 11_689_512, (1000,)),
    "resnet-medical.yaml": (lambda: MedicalResNet(), None, (6,)),
    "inception-block.yaml": (Inception, 163_696, (28, 28, 256)),
    "densenet-block.yaml": (Dense, None, (56, 56, 192)),
    "se-block.yaml": (SE, None, (56, 56, 64)),
    "unet-small.yaml": (UNet, None, (64, 64, 2)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_matches_a_hand_written_torch_module(name):
    make, published, out = CASES[name]
    spec = archspec.load(EXAMPLES / name)
    report = archspec.shapes(spec)
    reference = make()
    want = sum(p.numel() for p in reference.parameters())
    assert report.params == want == (published or want)
    assert report.output == out
    model = archspec.build(spec).eval()
    x = torch.zeros(1, *torch_dims(spec.input_shape))
    with torch.no_grad():
        assert model(x).shape == reference.eval()(x).shape == (1, *torch_dims(out))


def test_resnet18_has_7x7x512_before_the_average_pool():
    report = archspec.shapes(EXAMPLES / "resnet18.yaml")
    assert report.before("adaptive_avgpool2d") == (7, 7, 512)
    assert report.macs == 1_814_073_344  # torchvision's 1.81 GMACs (conv and linear weights)


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_source_imports_runs_and_equals_the_built_module(name, tmp_path):
    import importlib.util

    from archspec.torchbuild.codegen import class_name, generate

    spec = archspec.load(EXAMPLES / name)
    path = tmp_path / "generated.py"
    path.write_text(generate(spec))
    loader = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    generated, built = getattr(module, class_name(spec))().eval(), archspec.build(spec).eval()
    generated.load_state_dict(built.state_dict())
    x = torch.randn(1, *torch_dims(spec.input_shape))
    with torch.no_grad():
        torch.testing.assert_close(generated(x), built(x))


def test_resnet18_compiles_with_a_torchinfo_summary_and_exports_checked_onnx(cli, tmp_path):
    import onnx

    r = cli("compile", EXAMPLES / "resnet18.yaml", "--onnx", tmp_path / "r18.onnx")
    assert r.code == 0, r.err
    assert "Total params: 11,689,512" in r.out and "(layer4_1)" in r.out and "(add)" in r.out
    onnx.checker.check_model(onnx.load(str(tmp_path / "r18.onnx")))
