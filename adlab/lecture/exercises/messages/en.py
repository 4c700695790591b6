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
    "raised": "your code raised {error} at {inputs}, on the line below. Fix it, then run the "
    "cell again.",
    "unusable": "the check could not use your answer at {inputs}: {error}.",
    "uses_adlab": "your code calls adlab's {name}: this exercise is about computing the "
    "derivative yourself, without adlab.",
    "context_raised": "the check could not run the chapter's code that you passed along with "
    "your answer ({error}). Run the chapter's cells above again, then this one.",
    "differs": "at {inputs} your code gives {got}, which is not right.",
    "differs_in": "at {inputs} your {part} is {got}, which is not right ({right}: right).",
    "wrong_value": "not the right value yet.",
    "not_a_number": "the answer should be a number (or a tuple of numbers), not a {type}.",
    "wrong_shape": "the answer has shape {got}; it should have shape {want}.",
    "not_words": "answer in words: a string, or a list of strings (not a {type}).",
    "wrong_length": "the exercise asks for {want} answers, one per item; you gave {got}.",
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
    "03.h_derivative.branch_on_x": "right for x > 1 and |x| < 1, wrong for x < −1: h's `if` tests "
    "y = x², not x, and y > 1 there too.",
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
    "word.automatic": "automatic|automatic differentiation|AD|autodiff|algorithmic differentiation",
    # -- 04 symbolic differentiation --------------------------------------------------------------
    "04.d_trig.title": "sin and cos for your differentiator",
    "04.d_trig.no_chain": "right for sin(x) and cos(x) alone; for sin(f) the chain rule multiplies "
    "by f′ — and your d builds f′ for you.",
    "04.d_trig.cos_sign": "the derivative of cos is −sin, with a minus sign.",
    "04.d_trig.otherwise": "Differentiate sin(a·x) by hand and compare with what your d_trig "
    "builds for it (print it with ast.unparse).",
    "04.swell.title": "the swell of x^(3^k), as formulas",
    "04.swell.squarings": "those are the counts for squarings, x^(2^k); each cubing t·t·t is two "
    "products, not one.",
    "04.swell.swapped": "the pair is swapped: the tree is the big one, the list the small one.",
    "04.swell.lines_of_f": "that counts the lines of f's own list; the question is about its "
    "derivative.",
    "04.swell.leaves_only": "that counts the leaves (the x's) only; the products are nodes too.",
    "04.swell.products_only": "that counts the products only; the leaves x are nodes too.",
    "04.swell.unsimplified": "that counts the list of the unsimplified derivative: simplify first, "
    "as the table's rows do.",
    "04.swell.otherwise": "Count for k = 1 and k = 2 by hand (or with your d and to_wengert), then "
    "look for the pattern: how much does one more cubing add?",
    # -- 05 graphs, the chain rule, reverse and forward mode -------------------------------------
    "05.dz_dx.title": "∂z/∂x of sin(x·y) + x as a path sum",
    "05.dz_dx.one_path": "that is only the path through sin; the direct edge x → z is a path too.",
    "05.dz_dx.direct_only": "that is only the direct edge x → z; x also reaches z through x·y "
    "and sin.",
    "05.dz_dx.inner_label": "along x → x·y the edge label is ∂(x·y)/∂x, which is not 1.",
    "05.dz_dx.wrong_operand": "∂(x·y)/∂x is the other factor, y.",
    "05.dz_dx.otherwise": "Draw the graph (x, y → x·y → sin → +, and x → +), label each edge, "
    "and add the products along the paths from x.",
    "05.jacobian_by_rows.title": "a Jacobian by reverse sweeps",
    "05.jacobian_by_rows.transposed": "the numbers are right but transposed: a reverse sweep "
    "seeded at one output gives one row, ∂(that output)/∂(each input).",
    "05.jacobian_by_rows.last_only": "that is one row, the last output's; seed one sweep at each "
    "output in turn.",
    "05.jacobian_by_rows.otherwise": "For each output name o, run reverse_sweep(rows, inputs, "
    "out=o) and read the adjoints of the inputs, in the order of `inputs`.",
    "05.g_rows.title": "your own Wengert list for x·x·x − 2x",
    "05.g_rows.plus": "the list computes x·x·x + 2x: mind the sign of the last row.",
    "05.g_rows.square_only": "the list computes x·x − 2x: x·x·x needs a second product.",
    "05.g_rows.no_two": "the list subtracts x, not 2x: a constant operand can multiply it.",
    "05.g_rows.otherwise": "Print evaluate(g_rows, {{'x': 2.0}}) and check each row's value by "
    "hand.",
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
    "06.mixed_partial.title": "a mixed second derivative with your dual numbers",
    "06.mixed_partial.second_in_x": "that is ∂²f/∂x²: both perturbations went into x. Give x one "
    "(ε₁) and y the other (ε₂).",
    "06.mixed_partial.second_in_y": "that is ∂²f/∂y²: both perturbations went into y. Give x one "
    "(ε₁) and y the other (ε₂).",
    "06.mixed_partial.confused": "your answer is 0 everywhere: with one ε for both derivatives, "
    "the inner derivative swallows the outer perturbation (perturbation confusion, section 3). "
    "Nest the duals yourself, or use tagged ones.",
    "06.mixed_partial.otherwise": "f at x = (x + ε₁) + 0ε₂ and y = (y + 0ε₁) + ε₂ has four parts; "
    "∂²f/∂x∂y is the ε₁ε₂ one, the ε part of the ε part.",
    "06.chunked_gradient.title": "a gradient in chunks",
    "06.chunked_gradient.one_per_input": "the gradient is right, but it takes a pass per input: "
    "let each pass carry `chunk` directions.",
    "06.chunked_gradient.all_at_once": "the gradient is right, but one pass carries all n "
    "directions: at most `chunk` per pass.",
    "06.chunked_gradient.last_chunk_lost": "right when the chunk divides n; otherwise the last, "
    "partly filled chunk needs a pass too.",
    "06.chunked_gradient.extra_pass": "right unless the chunk divides n: then there is no partly "
    "filled chunk, and your last pass carries no direction.",
    "06.chunked_gradient.otherwise": "Split the inputs into blocks of `chunk`; for each block, one "
    "pass with ε parts as long as the block (a 1 for the input's own direction), and read off "
    "the block's partials.",
    # -- 07 tracing ----------------------------------------------------------------------------
    "07.log.title": "a log primitive for your engine",
    "07.log.no_chain": "right only where log is the last operation: its backward must multiply "
    "the local derivative by the adjoint gy that arrives from above.",
    "07.log.times": "the local derivative of log is not its input: look up d/du log u again.",
    "07.log.output": "the backward divides by log's output; the derivative of log u is written "
    "with its input u.",
    "07.log.sign": "the sign of the adjoint is flipped: log rises wherever it is defined.",
    "07.log.not_a_tuple": "your backward returns a number; a backward returns a tuple with one "
    "adjoint per input, also when there is one input: `(adjoint,)`, as Sin's does.",
    "07.log.otherwise": "Compare your Log with Sin and Exp above: forward computes the value, "
    "backward returns (gy × the local derivative,) for its one input.",
    "07.grad.title": "grad for your engine",
    "07.grad.none_for_unused": "right except for an argument that f does not use: its adjoint "
    "stays None, but its derivative is a number.",
    "07.grad.no_backward": "every adjoint is still None: the backward pass has not run.",
    "07.grad.value": "that is f's value, not its derivatives.",
    "07.grad.otherwise": "Make a Variable per argument, call f on them, run backward on the "
    "result, and read each Variable's adjoint.",
    # -- 08 source transformation --------------------------------------------------------------
    "08.calls.title": "adjoint rules for sin, cos and exp",
    "08.calls.cos_sign": "the adjoint of cos has the wrong sign: d/da cos a is not sin a.",
    "08.calls.sin_sign": "the adjoint of sin has the wrong sign: sin rises at a = 0.",
    "08.calls.no_chain": "the rules leave out {{t}}_bar, the adjoint of the call's result: "
    "every contribution is {{t}}_bar × the local derivative, as for the operators.",
    "08.calls.otherwise": "Print grad_source of a function that is only sin(x * y), and compare "
    "each adjoint line with the chain rule; exp′ = exp, so its rule can reuse {{t}}.",
    "08.tangent.title": "a tangent (forward-mode) transformer",
    "08.tangent.quotient_square": "the tangent of a / b divides by b once; the quotient rule "
    "divides by b².",
    "08.tangent.quotient_sign": "the tangent of a / b has its two terms the wrong way round.",
    "08.tangent.product": "the tangent of a * b is not the product of the tangents: use the "
    "product rule.",
    "08.tangent.power_chain": "the tangent of a ** c leaves out a's own tangent (the chain rule).",
    "08.tangent.otherwise": "Emit each tangent line right after its value line, and check one "
    "operation at a time against the rules of chapter 06.",
    # -- 13 capstone ----------------------------------------------------------------------------
    "13.relu.title": "ReLU for your engine",
    "13.relu.no_chain": "the backward returns where the input was positive, but forgets to "
    "multiply by the adjoint gy arriving from above.",
    "13.relu.no_mask": "the adjoint passes everywhere: where the input was negative, relu is flat, "
    "and its derivative is 0.",
    "13.relu.at_zero": "right except at exactly 0: the convention is relu′(0) = 0, so compare "
    "with > 0, not >= 0.",
    "13.relu.not_a_tuple": "your backward returns an array; a backward returns a tuple with one "
    "adjoint per input, also when there is one input: `(adjoint,)`. Given an array, the "
    "engine's zip would hand the array's first entry to the input.",
    "13.relu.otherwise": "Compare your ReLU with Tanh above: forward computes the value, backward "
    "returns (gy × the local derivative,) for its one input.",
    "13.sum_to_shape.title": "broadcasting's adjoint in full",
    "13.sum_to_shape.leading_only": "leading axes are summed away, but axes of length 1 (a column "
    "(n, 1) or a row (1, m)) are broadcast too: sum over them as well.",
    "13.sum_to_shape.dropped_axes": "the sums have the right values but lose the axes of length "
    "1: the result must have exactly the given shape (keepdims=True).",
    "13.sum_to_shape.averaged": "a broadcast input is used once per copy, and fan-out adds the "
    "adjoints: sum them, do not average.",
    "13.sum_to_shape.otherwise": "Try g = np.ones((3, 4)) with the shapes (4,), (3, 1) and (1, 4), "
    "and compare with what each broadcast input would collect.",
    # -- 09 one interface -----------------------------------------------------------------------
    "09.jacobian.title": "a Jacobian from pullbacks",
    "09.jacobian.transposed": "the numbers are right but the matrix is transposed: J has one row "
    "per output (m × n), and a pullback of the k-th unit vector gives row k.",
    "09.jacobian.pushforwards": "the matrix is right, but it was built from pushforwards (one "
    "forward pass per input): build it from ad.vjp, one pullback per output.",
    "09.jacobian.otherwise": "Call ad.vjp once, then pull back each unit vector of the output "
    "space: each pullback gives one row.",
    "09.complex_step.title": "the complex-step backend",
    "09.complex_step.real_part": "that is the real part of f(x + ihv): the derivative sits in the "
    "imaginary part.",
    "09.complex_step.no_divide": "the imaginary part of f(x + ihv) is h times the derivative: "
    "divide by h.",
    "09.complex_step.sign": "the sign is flipped: step to x + ihv, not x − ihv.",
    "09.complex_step.otherwise": "Check the pushforward alone on f(x) = x² at 3 along v = 1 (it "
    "should give 6), then the derived gradient.",
    # -- 10 custom rules -------------------------------------------------------------------------
    "10.safe_where.title": "x·log x with where, without the trap",
    "10.safe_where.trap": "the values are right, but the gradient is nan at 0 and below: the "
    "branch not taken still computes log of x ≤ 0, and 0 · (its derivative) is nan. Give that "
    "branch a safe input.",
    "10.safe_where.no_where": "for x ≤ 0 the function should be 0: choose between the branches "
    "with ad.where.",
    "10.safe_where.otherwise": "Compare with the chapter's double where for √x: an outer where "
    "picks the value, an inner where keeps log's input positive.",
    "10.logcosh.title": "a stable logcosh primitive with its rule",
    "10.logcosh.overflow": "the derivative is right, but the value overflows for large |x|: cosh "
    "itself overflows beyond about 710; compute log cosh without it.",
    "10.logcosh.sign": "the derivative has the wrong sign: log cosh grows on both sides of 0.",
    "10.logcosh.sech": "that is the derivative of tanh; the derivative of log cosh is sinh / cosh.",
    "10.logcosh.otherwise": "Test your value at 800 and at 1, then your rule with "
    "ad.testing.check_rule(logcosh, 1.0).",
    # -- 11 finite differences in depth ---------------------------------------------------------
    "11.best_step.title": "the best step of the central difference for exp at 0",
    "11.best_step.code_version": "that uses n! = 2, as the talk's plotting code did; the "
    "derivation of section 4 has (n + 1)!.",
    "11.best_step.forward_step": "about √ε is the forward difference's step; the central one "
    "balances ε/h against h², so a cube root appears.",
    "11.best_step.no_root": "that is h* cubed: take the (n + 1)-th root, here the cube root.",
    "11.best_step.otherwise": "Take section 4's h* with n = 2 for the central difference; which "
    "derivative of exp does it need at 0, and how large is it?",
    "11.second_derivative.title": "a 5-point second derivative",
    "11.second_derivative.no_factorial": "half the second derivative: the Vandermonde weights "
    "solve Σ w r² = 1, so the weighted sum is f″h²/2! — multiply by k! = 2.",
    "11.second_derivative.divided_by_h": "the weighted sum was divided by h, as for the first "
    "derivative: for the k-th derivative it is of size hᵏ, and the factor k! is missing too.",
    "11.second_derivative.factorial_by_h": "the factor k! is there, but the weighted sum was "
    "divided by h, as for the first derivative: for the k-th derivative it is of size hᵏ.",
    "11.second_derivative.divided_by_h3": "the weighted sum was divided by h³: for the second "
    "derivative it is of size h².",
    "11.second_derivative.three_points": "that is the 3-point stencil (O(h²)); the exercise asks "
    "for the 5-point one, on the offsets −2 … 2 (O(h⁴)).",
    "11.second_derivative.otherwise": "Print your weights: for k = 2 on −2 … 2 they are "
    "symmetric and sum to 0. Then test on sin at 0.5 with h = 0.01.",
    # -- 12 summary ------------------------------------------------------------------------------
    "12.mode.title": "pick the mode",
    "12.mode.loss": "case 1: a loss has one output; forward mode would need a pass per parameter.",
    "12.mode.column": "case 2: a single column of the Jacobian is one Jacobian–vector product.",
    "12.mode.all_reverse": "reverse mode is not always cheaper: compare n passes with m sweeps "
    "in each case.",
    "12.mode.otherwise": "For each case, count: forward mode needs one pass per input direction, "
    "reverse mode one sweep per output.",
}
