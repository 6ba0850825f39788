@client @user-button @serial
Feature: User button
  The <UserButton/> shows the signed-in user's menu; its "Sign out" ends the session and lands on the page
  the app configured (afterSignOutUrl, on <ClerkProvider> since @clerk/nextjs 7).

  @CL-201
  Scenario: Signing out from the user menu ends the session and lands on the page after sign-out
    Given I am signed in through the sign-in page
    When I open the user menu and sign out
    Then my browser session has ended at Clerk
    And the browser is on the page after sign-out

  @CL-202
  Scenario: After signing out from the user menu, protected pages send the browser to sign in
    Given I am signed in through the sign-in page
    When I open the user menu and sign out
    And I open the data page in the browser
    Then the browser is on the sign-in page
