"""The exercises' messages in English (the default; other catalogues fall back to it).

Generic messages by name; a chapter's as ``"NN.key.title"``, ``"NN.key.<mistake>"``
and optionally ``"NN.key.otherwise"``; accepted spellings of a word answer as
``"word.<choice>"`` (``|``-separated, the usual one first). Fields in braces are
filled in by the checker. A hint names the mistake and where to look; it never
states the answer.
"""

MESSAGES = {
    # -- every exercise ------------------------------------------------------------------------
    "heading": "Exercise {number} — {title}",
    "right": "right.",
    "unanswered": "not answered yet. Write your answer where the cell says, then run the cell "
    "again.",
    "returns_none": "your function returns None: write its body, and end it with `return`.",
    "raised": "your code raised {error} (at {inputs}). Fix the line the error names, then run the "
    "cell again.",
    "differs": "at {inputs} your code gives {got}, which is not right.",
    "wrong_value": "not the right value yet.",
    "not_a_number": "the answer should be a number (or a tuple of numbers), not a {type}.",
    "wrong_shape": "the answer has shape {got}; it should have shape {want}.",
    "not_words": "answer in words: a string, or a list of strings (not a {type}).",
    "wrong_length": "{got} answers given, {want} expected.",
    "unknown_word": "{word!r} is not one of the choices ({choices}).",
    "wrong_words": "{count} of the {total} answers are not right yet.",
    # -- words ---------------------------------------------------------------------------------
    "word.forward": "forward|forward mode|forward-mode AD|tangent mode|tangent-linear mode|"
    "forward accumulation|bottom-up|jvp",
    "word.reverse": "reverse|reverse mode|reverse-mode AD|backward|backward mode|adjoint mode|"
    "reverse accumulation|top-down|fast AD|backpropagation|vjp",
    # -- 01 derivatives, gradients and gradient descent ----------------------------------------
    "01.h_gradient.title": "the gradient of x²y³ − 3x + sin(xy), by hand",
    "01.h_gradient.no_inner": "sin(xy) needs the chain rule: its derivative is cos(xy) times the "
    "derivative of xy.",
    "01.h_gradient.swapped": "the two components are swapped: return (∂h/∂x, ∂h/∂y) in that order.",
    "01.h_gradient.dropped_factor": "in x²y³ the frozen variable is a constant factor: it stays, "
    "it does not vanish.",
    "01.h_gradient.linear_term": "the term −3x has a derivative in x too.",
    "01.h_gradient.otherwise": "Freeze y and differentiate each term in x; then freeze x.",
    "01.one_step_rate.title": "the learning rate that reaches (0, 0) in one step",
    "01.one_step_rate.overshoot": "with that α a step lands on −x, the mirror point: the step is "
    "twice too long.",
    "01.one_step_rate.unit_sphere": "right for c = 1 only: the gradient of c·(x² + y²) grows "
    "with c.",
    "01.one_step_rate.inverted": "a steeper bowl (larger c) needs a smaller step, not a larger "
    "one.",
    "01.one_step_rate.otherwise": "Write one step x − α·∇f(x) for this f and ask when it is 0.",
    # -- 02 finite differences ------------------------------------------------------------------
    "02.backward_difference.title": "the backward difference",
    "02.backward_difference.sign": "the sign is flipped: a rising f should give a positive slope.",
    "02.backward_difference.forward": "that is the forward difference: the secant should end at "
    "x, starting at x − h.",
    "02.backward_difference.central": "that is the central difference (chapter 11): this secant "
    "runs from x − h to x.",
    "02.backward_difference.two_h": "the two points are h apart, so divide by h.",
    "02.backward_difference.otherwise": "A slope is (rise) / (run): f at the right end minus f at "
    "the left end, over their distance.",
    "02.backward_stall.title": "where descent with the backward difference stalls",
    "02.backward_stall.forward": "that is where the forward difference stalls; the backward one "
    "leans the other way.",
    "02.backward_stall.unbiased": "the backward difference has a bias too: expand L(c − h) as "
    "the chapter expanded L(c + h).",
    "02.backward_stall.whole_step": "right direction, but the bias is L″h/2, not L″h.",
    "02.backward_stall.whole_step_down": "two slips: the bias of the backward difference has the "
    "other sign, and it is L″h/2.",
    "02.backward_stall.otherwise": "Write (L(c) − L(c − h))/h for L(c) = 14(2 − c)² and solve for "
    "where it is 0.",
    # -- 03 what AD means ------------------------------------------------------------------------
    "03.h_derivative.title": "the derivative program of h",
    "03.h_derivative.no_branch_taken": "right where |x| < 1; where the branch is taken, h "
    "returns 3y, and your program must follow it there too.",
    "03.h_derivative.always_branch": "right where the branch is taken; where |x| < 1, h returns "
    "y + x instead.",
    "03.h_derivative.no_chain": "3y depends on x through y = x²: the chain rule multiplies by "
    "dy/dx.",
    "03.h_derivative.forgot_x": "y + x has two terms that depend on x.",
    "03.h_derivative.otherwise": "Follow h line by line: the same `if`, and in each branch the "
    "derivative of what that branch returns.",
    "03.families.title": "which family?",
    "03.families.backward_symbolic": "backward() never builds a formula: it runs through the "
    "operations the program performed (tool 3).",
    "03.families.jax_symbolic": "jax.grad takes a Python program, loops and all, not an "
    "expression (tool 4).",
    "03.families.force_automatic": "a formula with a small step h approximates (tool 1).",
    "03.families.cas_automatic": "an expression in, an expression out: which family is that "
    "(tools 2 and 5)?",
    "word.numerical": "numerical|numeric|numerical differentiation|finite differences",
    "word.symbolic": "symbolic|symbolic differentiation|computer algebra",
    "word.automatic": "automatic|automatic differentiation|AD|autodiff|algorithmic "
    "differentiation",
    # -- 06 dual numbers -----------------------------------------------------------------------
    "06.tan.title": "tan′ with your dual numbers",
    "06.tan.no_chain": "right when the ε part of x is 1, wrong otherwise: tan(a + bε) needs the "
    "chain rule's factor b.",
    "06.tan.not_squared": "the derivative of tan is 1/cos², not 1/cos.",
    "06.tan.sign": "the sign of the ε part is flipped: tan rises wherever it is defined.",
    "06.tan.swapped": "the value and the ε part are swapped: the first part is tan(a) itself.",
    "06.tan.no_one": "tan′ = 1 + tan², and the 1 is missing.",
    "06.tan.otherwise": "Work out tan(a + bε) on paper, as the chapter did for sin, and compare "
    "part by part.",
}
