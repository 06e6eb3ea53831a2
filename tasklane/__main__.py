from tasklane.cli import main

main()
