"""用語集 (glossary) of the Japanese edition: each term, its English in the lecture, the chapter
that teaches it, and the talk's slide where the talk uses it.

The data below is what translators follow (notebooks/ja/README.md) and what the Japanese 00
shows: ``python notebooks/editions.py glossary`` writes :func:`markdown` into its glossary
cells, and tests/notebook/test_editions.py checks that the cells, the English chapters and
this table agree.

**The talk's slides** are numbered as the talk's Makefile builds its deck (abap34/juliatokyo11
at 1d887c2): ``slides/header.md``, then ``slides/N_*.md`` in order without their front
matter, cut into slides at each thematic break (``---``, and the one ``----`` in
5_autodiff.md) outside code and HTML comments, as Marp does: 142 slides. :data:`SLIDES`
holds the file and title (its ``_header``, else its first heading) of each slide cited.
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    ja: str  # the term as the Japanese edition writes it (the talk's word where it has one)
    en: str  # the English lecture's term (it appears in the chapter's text)
    chapter: str  # the chapter that teaches it
    slide: int | None = None  # the talk's slide (a key of SLIDES), None if not from the talk
    note: str = ""  # other names, and a remark for translators


# The talk's files and their slides (first, last), as numbered above.
TALK_FILES = {
    "header.md": (1, 2),
    "0_intro.md": (3, 12),
    "1_intro.md": (13, 40),
    "2_framework.md": (41, 51),
    "4_symbolic.md": (52, 77),
    "5_autodiff.md": (78, 110),
    "6_juliapkg.md": (111, 120),
    "7_conclution.md": (121, 121),
    "8_outro.md": (122, 142),
}

# The slides the glossary cites: number -> (file, title).
SLIDES = {
    14: ("1_intro.md", "微分の定義を振り返る ~ 高校"),
    15: ("1_intro.md", "微分の定義を振り返る ~大学"),
    16: ("1_intro.md", "微分の定義を振り返る ~大学"),
    20: ("1_intro.md", "実例で見てみる"),
    23: ("1_intro.md", "勾配降下法"),
    26: ("1_intro.md", "勾配降下法を機械学習に応用する"),
    34: ("1_intro.md", "数値微分"),
    35: ("1_intro.md", "数値微分"),
    44: ("2_framework.md", "「自動微分」"),
    53: ("4_symbolic.md", "数式微分"),
    55: ("4_symbolic.md", "数式微分のアイデア"),
    67: ("4_symbolic.md", "簡約化"),
    72: ("4_symbolic.md", "式の表現法を考える"),
    73: ("4_symbolic.md", "式の表現法を考える"),
    77: ("4_symbolic.md", "式からアルゴリズムへ、木からDAGへ"),
    79: ("5_autodiff.md", "アルゴリズムの表現"),
    81: ("5_autodiff.md", "DAG による表現"),
    82: ("5_autodiff.md", "計算グラフによる表現"),
    84: ("5_autodiff.md", "連鎖律"),
    88: ("5_autodiff.md", "連鎖律と計算グラフの対応"),
    97: ("5_autodiff.md", "Backward-Mode AD"),
    99: ("5_autodiff.md", "Forward-Mode AD"),
    100: ("5_autodiff.md", "Backward / Forward-Mode AD"),
    101: ("5_autodiff.md", "計算グラフ以外の表現"),
    105: ("5_autodiff.md", "トレースによる計算グラフの獲得"),
    106: ("5_autodiff.md", "トレースの OO による典型的な実装"),
    108: ("5_autodiff.md", "トレースの利点"),
    110: ("5_autodiff.md", "トレースからソースコード変換へ"),
    113: ("6_juliapkg.md", "FiniteDiff.jl/FiniteDifferences.jl"),
    118: ("6_juliapkg.md", "Zygote.jl"),
    121: ("7_conclution.md", "まとめ"),
    126: ("8_outro.md", "数値微分の誤差 ~ 打ち切り誤差"),
    127: ("8_outro.md", "数値微分の誤差"),
    130: ("8_outro.md", "丸め誤差と打ち切り誤差のトレードオフ"),
    132: ("8_outro.md", "数値微分の改良 ~ 打ち切り誤差の改善"),
    134: ("8_outro.md", "中心差分による２次精度の数値微分"),
    142: ("8_outro.md", "自動微分の勉強で参考になる文献"),
}

# The glossary, in the order the course meets the terms; each tuple is one slide of 00.
PARTS: tuple[tuple[str, tuple[Term, ...]], ...] = (
    (
        "微分と勾配降下法（01–02 章）",
        (
            Term(
                "微分係数・導関数",
                "derivative",
                "01",
                14,
                "点での値が微分係数、関数としては導関数",
            ),
            Term("偏微分（偏微分係数）", "partial derivative", "01", 15),
            Term("勾配（勾配ベクトル）", "gradient", "01", 16, "∇f"),
            Term("勾配降下法", "gradient descent", "01", 23),
            Term(
                "最急降下法",
                "steepest descent",
                "01",
                23,
                "トークではスライドのソースの、表示されない枠にだけある",
            ),
            Term(
                "学習率（ステップ幅）",
                "learning rate",
                "01",
                None,
                "α。トークのノートブックでは lr",
            ),
            Term(
                "通しの例",
                "running example",
                "01",
                20,
                "f(x, y) = x²y + 1/(x² + y² + 1)、点 (0.5, −0.5)",
            ),
            Term("損失（損失関数）", "loss", "02", 26, "L(𝒟; θ)"),
        ),
    ),
    (
        "数値微分（02・11 章）",
        (
            Term("数値微分", "finite differences", "02", 34, "numerical differentiation"),
            Term("前進差分", "forward difference", "02", 132),
            Term("中心差分", "central difference", "11", 134, "2 次精度"),
            Term("打ち切り誤差", "truncation error", "11", 126),
            Term("丸め誤差", "rounding error", "11", 130),
            Term("桁落ち", "cancellation", "11", 35, "近い値どうしの引き算で有効桁を失う"),
            Term("テイラー展開", "Taylor's theorem", "11", 127),
            Term(
                "差分ステンシル",
                "stencil",
                "11",
                None,
                "n 点の重み。トークではヴァンデルモンド行列で重みを導く（スライド 134）",
            ),
            Term(
                "スパースなヤコビ行列",
                "sparse Jacobian",
                "11",
                113,
                "彩色（colouring）で評価回数を減らす",
            ),
        ),
    ),
    (
        "数式微分から自動微分へ（03–04 章）",
        (
            Term(
                "自動微分",
                "automatic differentiation",
                "03",
                44,
                "Automatic / Algorithmic Differentiation、AD",
            ),
            Term("無限精度の計算モデル", "infinite precision", "03", 44, "自動微分の定義の前提"),
            Term("数式微分", "symbolic differentiation", "04", 53, "記号微分とも"),
            Term("式の木", "expression tree", "04", 55, "トークでは「式をそのまま木で表す」"),
            Term("簡約化", "simplification", "04", 67, "自明な簡約：+0、×1 を消す"),
            Term("式の肥大化", "expression swell", "04", 73, "式の膨張とも"),
            Term("代入・束縛", "name binding", "04", 72, "木で表した式にはこれがない"),
            Term("共通部分式", "common subexpression", "04", 72),
            Term(
                "決定不能（Richardson の定理）",
                "Richardson's theorem",
                "04",
                77,
                "最も簡単な式を返すアルゴリズムはない",
            ),
        ),
    ),
    (
        "計算グラフ（04–05 章）",
        (
            Term("計算グラフ", "computational graph", "05", 81),
            Term("有向非巡回グラフ（DAG）", "DAG", "04", 81),
            Term("Kantorovich グラフ", "Kantorovich graph", "05", 82, "伊里・久保田（1998）の用語"),
            Term("中間変数", "intermediate values", "05", 79),
            Term("連鎖律", "chain rule", "05", 84, "チェインルールとも"),
            Term("経路（パス）", "path", "05", 88, "偏微分は全経路の「総積の総和」"),
            Term(
                "Wengert リスト",
                "Wengert list",
                "04",
                101,
                "トークでは Wengert List。Wengert 列とも",
            ),
            Term("テープ", "tape", "05", 101, "Gradient Tape"),
            Term("トポロジカルソート", "topological order", "05", 101),
        ),
    ),
    (
        "前進型と後退型（05 章）",
        (
            Term(
                "後退型自動微分",
                "reverse mode",
                "05",
                97,
                "逆向き・高速自動微分、リバースモード",
            ),
            Term(
                "トップダウン型",
                "top-down",
                "05",
                None,
                "伊里・久保田の言い方で後退型",
            ),
            Term("前進型自動微分", "forward mode", "05", 99, "フォワードモード"),
            Term(
                "ボトムアップ型",
                "bottom-up",
                "05",
                None,
                "伊里・久保田の言い方で前進型",
            ),
            Term(
                "走査",
                "sweep",
                "05",
                97,
                "計算グラフ（Wengert リスト）を一度たどること。前向き・後ろ向きの走査",
            ),
            Term("ヤコビ行列", "Jacobian", "05", 100, "行列式を指す「ヤコビアン」と区別する"),
            Term(
                "誤差逆伝播法",
                "backpropagation",
                "05",
                None,
                "後退型自動微分の、深層学習での呼び名",
            ),
        ),
    ),
    (
        "随伴・タンジェント・二重数（05–06 章）",
        (
            Term("随伴変数（アジョイント）", "adjoint", "05", None, "x̄。cotangent とも"),
            Term("タンジェント（接ベクトル）", "tangent", "05", None, "ẋ"),
            Term("二重数", "dual number", "06", 100, "ε² = 0、ε ≠ 0。トークでは注釈のみ"),
            Term(
                "摂動の混同",
                "perturbation confusion",
                "06",
                None,
                "入れ子の微分で起こる。タグで防ぐ",
            ),
        ),
    ),
    (
        "トレースとソースコード変換（07–08 章）",
        (
            Term("トレース", "tracing", "07", 105, "実行して過程を記録し、計算グラフを得る"),
            Term(
                "制御構文",
                "control flow",
                "07",
                108,
                "分岐・ループなど。トレースでは実際に通った分だけが記録される",
            ),
            Term(
                "Define-and-Run / Define-by-Run",
                "define-and-run / define-by-run",
                "07",
                None,
                "Chainer の用語。訳さない",
            ),
            Term(
                "基本演算（プリミティブ）",
                "primitive",
                "07",
                106,
                "トークでは「基本的な演算を表す関数」",
            ),
            Term("ソースコード変換", "source transformation", "08", 110, "SCT"),
            Term("SSA 形式", "SSA form", "08", 118, "静的単一代入形式"),
            Term("中間表現（IR）", "intermediate representation", "08", 118),
            Term("随伴コード", "adjoint code", "08", 118, "トークでは Adjoint Code"),
        ),
    ),
    (
        "道具と拡張（09–12 章）",
        (
            Term(
                "プッシュフォワード / プルバック",
                "pushforward / pullback",
                "09",
                None,
                "タンジェントを前へ、随伴を後ろへ運ぶ関数",
            ),
            Term("ヘッセ行列", "Hessian", "09", None),
            Term(
                "微分規則（カスタムルール）",
                "custom rule",
                "10",
                None,
                "ChainRules の frule / rrule",
            ),
            Term("劣勾配", "subgradient", "10", None, "微分できない点（kink）での約束"),
            Term("メタプログラミング", "metaprogramming", "12", 121),
            Term(
                "アルゴリズムの自動微分と応用",
                "Automatic Differentiation of Algorithms and Its Applications",
                "12",
                142,
                "久保田・伊里（1998）、コロナ社。ボトムアップ型・トップダウン型はこの本の言い方",
            ),
        ),
    ),
)

TERMS: tuple[Term, ...] = tuple(term for _, terms in PARTS for term in terms)

HEADING = "用語集"
INTRO = "用語と英語版での言い方、学ぶ章、トークでのスライド（全 142 枚の通し番号）の一覧です。"


def talk(term: Term) -> str:
    """Where the talk uses ``term``: "97「Backward-Mode AD」", or "—"."""
    if term.slide is None:
        return "—"
    return f"{term.slide}「{SLIDES[term.slide][1]}」"


def markdown() -> list[str]:
    """The glossary as markdown cells: one table per part, each a slide of the Japanese 00."""
    cells = []
    for k, (title, terms) in enumerate(PARTS):
        heading = f"## {HEADING}\n\n{INTRO}\n\n### {title}" if k == 0 else f"### {HEADING}：{title}"
        rows = [f"| {t.ja} | {t.en} | {t.chapter} | {talk(t)} | {t.note} |" for t in terms]
        table = "| 用語 | English | 章 | トークのスライド | 補足 |\n|---|---|---|---|---|\n"
        cells.append(f"{heading}\n\n{table}" + "\n".join(rows))
    return cells
